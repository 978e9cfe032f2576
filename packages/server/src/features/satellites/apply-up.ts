import { type Kysely, sql } from 'kysely';
import { marks, runStatement, tuples } from '../../storage/raw-statements.js';
import type { Database } from '../../storage/schema.js';
import { releaseInstanceUsage, replaceManyInstanceUsage, type UsageEntry } from '../compliance/usage-store.js';
import { sortableEventId } from '../events/event-recorder.js';
import type { EventSnapshot, InstanceSnapshot } from './sync-format.js';

/** What applying a request's changes did. */
export interface UpCounts {
  instances: number;
  removed: number;
  events: number;
}

/**
 * Applies what a satellite sent up, in the caller's transaction: each instance's whole state
 * (a mirrored row of its VA, usage through the maintained aggregates), removals, and its events
 * (marked with the satellite's name). A full request also removes the mirrored instances of the
 * satellite's VAs that it no longer has. Applying the same state twice changes nothing more.
 */
export async function applyUp(
  trx: Kysely<Database>,
  satellite: { name: string; accountId: string; vaIds: ReadonlySet<string> },
  up: {
    full: boolean;
    instances: readonly InstanceSnapshot[];
    removed: readonly string[];
    events: readonly EventSnapshot[];
  },
): Promise<UpCounts> {
  // In chunks (a full sync brings 100,000 instances): one read of the rows and their usage, then
  // multi-row writes of only what differs; an instance sent again unchanged writes nothing.
  // An instance named twice goes in with its last state, as if applied one after the other.
  const latest = [...new Map(up.instances.map((i) => [i.id, i])).values()];
  for (let i = 0; i < latest.length; i += CHUNK) await applyChunk(trx, latest.slice(i, i + CHUNK));
  let removed = 0;
  for (const id of up.removed) if (await removeMirrored(trx, id, satellite.vaIds)) removed++;
  if (up.full) {
    const keep = new Set(up.instances.map((i) => i.id));
    for (const vaId of satellite.vaIds) {
      const rows = await trx.selectFrom('instances').select('id').where('va_id', '=', vaId).execute();
      for (const r of rows) if (!keep.has(r.id) && (await removeMirrored(trx, r.id, satellite.vaIds))) removed++;
    }
  }
  for (let i = 0; i < up.events.length; i += CHUNK) {
    const rows = up.events.slice(i, i + CHUNK).map(
      (e) => sql`(${sortableEventId()}, ${e.at}, ${satellite.accountId},
        ${e.vaId !== null && satellite.vaIds.has(e.vaId) ? e.vaId : null},
        ${`satellite:${satellite.name}/${e.actor}`.slice(0, 500)}, ${e.type},
        ${JSON.stringify({ ...e.detail, satellite: satellite.name })})`,
    );
    await sql`insert into events (id, at, account_id, va_id, actor, type, detail) values ${sql.join(rows)}`.execute(
      trx,
    );
  }
  return { instances: up.instances.length, removed, events: up.events.length };
}

/** Instances per chunk: 15 bound parameters a row keeps a statement within both engines' limits. */
const CHUNK = 500;

/** The mirrored columns of an instance row, as they are compared with a snapshot. */
interface MirroredRow {
  id: string;
  va_id: string;
  pid: string;
  sn: string;
  hostname: string | null;
  software_tag: string;
  public_key_spki: string;
  id_cert_serial: string;
  id_cert_expires_at: number;
  registered_at: number;
  last_contact_at: number;
  export_controlled: number;
  compliance_status: string | null;
}

async function applyChunk(trx: Kysely<Database>, chunk: readonly InstanceSnapshot[]): Promise<void> {
  const ids = chunk.map((c) => c.id);
  const found = await runStatement<MirroredRow>(
    trx,
    `select id, va_id, pid, sn, hostname, software_tag, public_key_spki, id_cert_serial, id_cert_expires_at,
      registered_at, last_contact_at, export_controlled, compliance_status
    from instances where id in ${marks(ids.length)}`,
    ids,
  );
  const existing = new Map(found.map((r) => [r.id, r]));
  const usage =
    found.length > 0
      ? await usageOf(
          trx,
          found.map((r) => r.id),
        )
      : new Map<string, UsageEntry[]>();
  const changed: InstanceSnapshot[] = [];
  const fresh: InstanceSnapshot[] = [];
  for (const instance of chunk) {
    const row = existing.get(instance.id);
    if (row === undefined) {
      fresh.push(instance);
      continue;
    }
    if (row.va_id !== instance.vaId) {
      // Moved between the satellite's VAs: its usage leaves the old VA's totals first.
      await releaseInstanceUsage(trx, { instanceId: instance.id, vaId: row.va_id });
      usage.delete(instance.id);
    }
    if (!sameRow(row, instance)) changed.push(instance);
  }
  // Rows that change first: a UDI one of them gives up may be the one a new instance takes.
  await writeRows(trx, changed, true);
  if (fresh.length > 0) {
    // A UDI may be held here by an earlier record of the device (it moved to the satellite): replace it.
    const udis = new Map(fresh.map((i) => [JSON.stringify([i.pid, i.sn]), i.id]));
    const pids = [...new Set(fresh.map((i) => i.pid))];
    const sns = [...new Set(fresh.map((i) => i.sn))];
    const holders = await runStatement<{ id: string; va_id: string; pid: string; sn: string }>(
      trx,
      `select id, va_id, pid, sn from instances where pid in ${marks(pids.length)} and sn in ${marks(sns.length)}`,
      [...pids, ...sns],
    );
    for (const twin of holders) {
      if (!udis.has(JSON.stringify([twin.pid, twin.sn]))) continue;
      await releaseInstanceUsage(trx, { instanceId: twin.id, vaId: twin.va_id });
      await trx.deleteFrom('instances').where('id', '=', twin.id).execute();
    }
    await writeRows(trx, fresh, false);
  }
  await replaceManyInstanceUsage(
    trx,
    chunk.map((i) => ({ instanceId: i.id, vaId: i.vaId, current: usage.get(i.id) ?? [], next: i.usage })),
  );
}

const INSTANCE_INSERT = `insert into instances (id, va_id, token_id, pid, sn, hostname, software_tag, public_key_spki,
  id_cert_pem, id_cert_serial, id_cert_expires_at, registered_at, last_contact_at, export_controlled, compliance_status)
  values`;
const INSTANCE_UPDATE = `on conflict (id) do update set va_id = excluded.va_id, pid = excluded.pid, sn = excluded.sn,
  hostname = excluded.hostname, software_tag = excluded.software_tag, public_key_spki = excluded.public_key_spki,
  id_cert_serial = excluded.id_cert_serial, id_cert_expires_at = excluded.id_cert_expires_at,
  registered_at = excluded.registered_at, last_contact_at = excluded.last_contact_at,
  export_controlled = excluded.export_controlled, compliance_status = excluded.compliance_status`;

/**
 * Writes instances' rows in one multi-row statement: new ones (a plain insert, the cheaper one for
 * a first full sync), or existing ones, updating every mirrored column.
 */
async function writeRows(
  trx: Kysely<Database>,
  instances: readonly InstanceSnapshot[],
  existing: boolean,
): Promise<void> {
  if (instances.length === 0) return;
  const parameters: unknown[] = [];
  for (const i of instances) {
    parameters.push(
      i.id,
      i.vaId,
      null,
      i.pid,
      i.sn,
      i.hostname,
      i.softwareTag,
      i.publicKeySpki,
      '',
      i.idCertSerial,
      i.idCertExpiresAt,
      i.registeredAt,
      i.lastContactAt,
      i.exportControlled ? 1 : 0,
      i.complianceStatus,
    );
  }
  await runStatement(
    trx,
    `${INSTANCE_INSERT} ${tuples(instances.length, 15)} ${existing ? INSTANCE_UPDATE : ''}`,
    parameters,
  );
}

/** Whether an instance's row already holds everything its snapshot says. */
function sameRow(r: MirroredRow, i: InstanceSnapshot): boolean {
  return (
    r.va_id === i.vaId &&
    r.pid === i.pid &&
    r.sn === i.sn &&
    r.hostname === i.hostname &&
    r.software_tag === i.softwareTag &&
    r.public_key_spki === i.publicKeySpki &&
    r.id_cert_serial === i.idCertSerial &&
    Number(r.id_cert_expires_at) === i.idCertExpiresAt &&
    Number(r.registered_at) === i.registeredAt &&
    Number(r.last_contact_at) === i.lastContactAt &&
    Number(r.export_controlled) === (i.exportControlled ? 1 : 0) &&
    (r.compliance_status ?? null) === i.complianceStatus
  );
}

async function usageOf(trx: Kysely<Database>, ids: readonly string[]): Promise<Map<string, UsageEntry[]>> {
  const rows = await runStatement<{ instance_id: string; tag: string; count: number; display_name: string | null }>(
    trx,
    `select instance_id, tag, count, display_name from instance_usage where instance_id in ${marks(ids.length)}`,
    ids,
  );
  const byInstance = new Map<string, UsageEntry[]>();
  for (const r of rows) {
    const list = byInstance.get(r.instance_id) ?? [];
    list.push({ tag: r.tag, count: Number(r.count), displayName: r.display_name });
    byInstance.set(r.instance_id, list);
  }
  return byInstance;
}

async function removeMirrored(trx: Kysely<Database>, id: string, vaIds: ReadonlySet<string>): Promise<boolean> {
  const row = await trx.selectFrom('instances').select(['va_id']).where('id', '=', id).executeTakeFirst();
  if (!row || !vaIds.has(row.va_id)) return false;
  await releaseInstanceUsage(trx, { instanceId: id, vaId: row.va_id });
  await trx.deleteFrom('instances').where('id', '=', id).execute();
  return true;
}
