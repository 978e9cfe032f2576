import { type Kysely, sql } from 'kysely';
import type { Database, InstanceRow } from '../../storage/schema.js';

export async function insertInstance(db: Kysely<Database>, row: InstanceRow): Promise<void> {
  await db.insertInto('instances').values(row).execute();
}

/** The live instance with this UDI, if any (a UDI is registered at most once). */
export async function findInstanceByUdi(
  db: Kysely<Database>,
  pid: string,
  sn: string,
): Promise<Pick<InstanceRow, 'id' | 'va_id'> | undefined> {
  return db
    .selectFrom('instances')
    .select(['id', 'va_id'])
    .where('pid', '=', pid)
    .where('sn', '=', sn)
    .executeTakeFirst();
}

/** What verifying an instance's messages needs. */
export type InstanceKeyRow = Pick<
  InstanceRow,
  | 'id'
  | 'va_id'
  | 'public_key_spki'
  | 'id_cert_serial'
  | 'id_cert_expires_at'
  | 'previous_id_cert_serial'
  | 'previous_public_key_spki'
  | 'previous_id_cert_expires_at'
>;

export async function findInstanceKey(db: Kysely<Database>, id: string): Promise<InstanceKeyRow | undefined> {
  return db
    .selectFrom('instances')
    .select([
      'id',
      'va_id',
      'public_key_spki',
      'id_cert_serial',
      'id_cert_expires_at',
      'previous_id_cert_serial',
      'previous_public_key_spki',
      'previous_id_cert_expires_at',
    ])
    .where('id', '=', id)
    .executeTakeFirst();
}

/**
 * Records contact from an instance, only while `idCertSerial` is still accepted from it (its
 * current ID certificate, or the previous one not yet superseded in use): false when it was
 * removed, renewed or superseded meanwhile.
 */
export async function touchInstance(
  db: Kysely<Database>,
  id: string,
  idCertSerial: string,
  now: number,
): Promise<boolean> {
  // Device hot path: plain SQL (see nonce-store.ts).
  const result = await sql`update instances set last_contact_at = ${now}
    where id = ${id} and (id_cert_serial = ${idCertSerial} or previous_id_cert_serial = ${idCertSerial})`.execute(db);
  return result.numAffectedRows === 1n;
}

/**
 * {@link touchInstance} that also answers the instance's current VA and its last compliance status (an instance may have
 * been transferred since its identity was cached) and whether it is counted silent (the caller then `uncountSilent`s
 * it in the same unit): undefined when it was removed, renewed or superseded.
 */
export async function touchInstanceInVa(
  db: Kysely<Database>,
  id: string,
  idCertSerial: string,
  now: number,
): Promise<{ vaId: string; complianceStatus: string | null; silentCounted: boolean } | undefined> {
  const { rows } = await sql<{ va_id: string; compliance_status: string | null; silent_counted: number }>`
    update instances set last_contact_at = ${now}
    where id = ${id} and (id_cert_serial = ${idCertSerial} or previous_id_cert_serial = ${idCertSerial})
    returning va_id, compliance_status, silent_counted`.execute(db);
  const row = rows[0];
  return (
    row && {
      vaId: row.va_id,
      complianceStatus: row.compliance_status,
      silentCounted: Number(row.silent_counted) === 1,
    }
  );
}

/**
 * Forgets the instance's previous ID certificate once the device has used its current one,
 * `idCertSerial`: from then on only that one is accepted.
 */
export async function clearPreviousIdCertificate(
  db: Kysely<Database>,
  id: string,
  idCertSerial: string,
): Promise<void> {
  await db
    .updateTable('instances')
    .set({ previous_id_cert_serial: null, previous_public_key_spki: null, previous_id_cert_expires_at: null })
    .where('id', '=', id)
    .where('id_cert_serial', '=', idCertSerial)
    .execute();
}

/**
 * Installs a renewed ID certificate, keeping the certificate that signed the renewal (`held`)
 * as the previous one: the device holds it until it saves the answer. Answers the instance's
 * current VA (read in the same statement: another process may have transferred it since its
 * identity was cached), or undefined if `held` is no longer accepted from the instance. When
 * `held` was itself the previous certificate, the device never got the current one, which is
 * simply replaced.
 */
export async function replaceIdCertificate(
  db: Kysely<Database>,
  change: {
    id: string;
    held: { serial: string; publicKeySpki: string; expiresAt: number };
    publicKeySpki: string;
    pem: string;
    serial: string;
    expiresAt: number;
    now: number;
  },
): Promise<{ vaId: string } | undefined> {
  const { held } = change;
  const result = await db
    .updateTable('instances')
    .set({
      previous_id_cert_serial: held.serial,
      previous_public_key_spki: held.publicKeySpki,
      previous_id_cert_expires_at: held.expiresAt,
      public_key_spki: change.publicKeySpki,
      id_cert_pem: change.pem,
      id_cert_serial: change.serial,
      id_cert_expires_at: change.expiresAt,
      last_contact_at: change.now,
    })
    .where('id', '=', change.id)
    .where((eb) => eb.or([eb('id_cert_serial', '=', held.serial), eb('previous_id_cert_serial', '=', held.serial)]))
    .returning('va_id')
    .executeTakeFirst();
  return result && { vaId: result.va_id };
}

/** Deletes an instance row (its usage rows go with it; release the totals first). */
export async function deleteInstance(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('instances').where('id', '=', id).execute();
}

/** Where a page of instances starts: after this instance in (registered_at, pid, sn) order. */
export interface InstanceCursor {
  registeredAt: number;
  pid: string;
  sn: string;
}

/** What an instance list shows (not the keys and certificates, which a report of a million rows would drag along). */
const INSTANCE_LIST_COLUMNS = [
  'id',
  'pid',
  'sn',
  'hostname',
  'software_tag',
  'registered_at',
  'last_contact_at',
  'id_cert_serial',
  'id_cert_expires_at',
  'export_controlled',
] as const;

export type InstanceListRow = Pick<InstanceRow, (typeof INSTANCE_LIST_COLUMNS)[number]>;

/**
 * A VA's instances in registration order, optionally only those whose id, PID, SN or
 * hostname contains `search` (case-insensitive), after `after`, at most `limit`.
 */
export async function listInstances(
  db: Kysely<Database>,
  vaId: string,
  options: { search?: string | undefined; after?: InstanceCursor | undefined; limit?: number | undefined } = {},
): Promise<InstanceListRow[]> {
  let query = db.selectFrom('instances').select(INSTANCE_LIST_COLUMNS).where('va_id', '=', vaId);
  if (options.search) {
    const pattern = `%${options.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where(
      sql<boolean>`(lower(id) like ${pattern} escape '\\' or lower(pid) like ${pattern} escape '\\'
        or lower(sn) like ${pattern} escape '\\' or lower(coalesce(hostname, '')) like ${pattern} escape '\\')`,
    );
  }
  const after = options.after;
  if (after) {
    // Keyset: a range read of the (va_id, registered_at, pid, sn) index from the cursor on.
    query = query
      .where('registered_at', '>=', after.registeredAt)
      .where((eb) =>
        eb.or([
          eb('registered_at', '>', after.registeredAt),
          eb('pid', '>', after.pid),
          eb.and([eb('pid', '=', after.pid), eb('sn', '>', after.sn)]),
        ]),
      );
  }
  query = query.orderBy('registered_at').orderBy('pid').orderBy('sn');
  if (options.limit !== undefined) query = query.limit(options.limit);
  return query.execute();
}

/** The usage rows of these instances (at most a page of them: one statement). */
export async function listUsageOf(
  db: Kysely<Database>,
  instanceIds: readonly string[],
): Promise<Array<{ instance_id: string; tag: string; count: number }>> {
  if (instanceIds.length === 0) return [];
  return db
    .selectFrom('instance_usage')
    .select(['instance_id', 'tag', 'count'])
    .where('instance_id', 'in', [...instanceIds])
    .orderBy('tag')
    .execute();
}

/** The names an instance's ID certificate carries. */
export async function findInstanceSubject(
  db: Kysely<Database>,
  id: string,
): Promise<{ pid: string; sn: string; domain: string } | undefined> {
  return db
    .selectFrom('instances as i')
    .innerJoin('virtual_accounts as va', 'va.id', 'i.va_id')
    .innerJoin('smart_accounts as sa', 'sa.id', 'va.account_id')
    .select(['i.pid', 'i.sn', 'sa.domain'])
    .where('i.id', '=', id)
    .executeTakeFirst();
}
