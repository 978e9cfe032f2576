import { type Kysely, sql } from 'kysely';
import type { Database } from '../../storage/schema.js';
import { releaseInstanceUsage, replaceInstanceUsage, type UsageEntry } from '../compliance/usage-store.js';
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
  // Read what is there in chunks (a full sync brings 100,000 instances), then write only what differs.
  for (let i = 0; i < up.instances.length; i += CHUNK) {
    const chunk = up.instances.slice(i, i + CHUNK);
    const ids = chunk.map((c) => c.id);
    const existing = new Map(
      (await trx.selectFrom('instances').select(['id', 'va_id']).where('id', 'in', ids).execute()).map((r) => [
        r.id,
        r.va_id,
      ]),
    );
    const usage = await usageOf(trx, ids);
    for (const instance of chunk)
      await upsertInstance(trx, instance, existing.get(instance.id), usage.get(instance.id) ?? []);
  }
  let removed = 0;
  for (const id of up.removed) if (await removeMirrored(trx, id, satellite.vaIds)) removed++;
  if (up.full) {
    const keep = new Set(up.instances.map((i) => i.id));
    for (const vaId of satellite.vaIds) {
      const rows = await trx.selectFrom('instances').select('id').where('va_id', '=', vaId).execute();
      for (const r of rows) if (!keep.has(r.id) && (await removeMirrored(trx, r.id, satellite.vaIds))) removed++;
    }
  }
  for (const e of up.events) {
    await sql`insert into events (id, at, account_id, va_id, actor, type, detail) values (
      ${sortableEventId()}, ${e.at}, ${satellite.accountId},
      ${e.vaId !== null && satellite.vaIds.has(e.vaId) ? e.vaId : null},
      ${`satellite:${satellite.name}/${e.actor}`.slice(0, 500)}, ${e.type},
      ${JSON.stringify({ ...e.detail, satellite: satellite.name })})`.execute(trx);
  }
  return { instances: up.instances.length, removed, events: up.events.length };
}

const CHUNK = 500;

async function usageOf(trx: Kysely<Database>, ids: readonly string[]): Promise<Map<string, UsageEntry[]>> {
  const rows = await trx
    .selectFrom('instance_usage')
    .select(['instance_id', 'tag', 'count', 'display_name'])
    .where('instance_id', 'in', [...ids])
    .execute();
  const byInstance = new Map<string, UsageEntry[]>();
  for (const r of rows) {
    const list = byInstance.get(r.instance_id) ?? [];
    list.push({ tag: r.tag, count: Number(r.count), displayName: r.display_name });
    byInstance.set(r.instance_id, list);
  }
  return byInstance;
}

async function upsertInstance(
  trx: Kysely<Database>,
  i: InstanceSnapshot,
  existingVa: string | undefined,
  current: UsageEntry[],
): Promise<void> {
  const exportControlled = i.exportControlled ? 1 : 0;
  if (existingVa !== undefined && existingVa !== i.vaId) {
    // Moved between the satellite's VAs: its usage leaves the old VA's totals first.
    await releaseInstanceUsage(trx, { instanceId: i.id, vaId: existingVa });
    current = [];
  }
  if (existingVa !== undefined) {
    await sql`update instances set va_id = ${i.vaId}, pid = ${i.pid}, sn = ${i.sn}, hostname = ${i.hostname},
      software_tag = ${i.softwareTag}, public_key_spki = ${i.publicKeySpki}, id_cert_serial = ${i.idCertSerial},
      id_cert_expires_at = ${i.idCertExpiresAt}, registered_at = ${i.registeredAt}, last_contact_at = ${i.lastContactAt},
      export_controlled = ${exportControlled}, compliance_status = ${i.complianceStatus}
      where id = ${i.id}`.execute(trx);
  } else {
    // The UDI may be held here by an earlier record of the device (it moved to the satellite): replace it.
    const { rows } = await sql<{ id: string; va_id: string }>`
      select id, va_id from instances where pid = ${i.pid} and sn = ${i.sn}`.execute(trx);
    const twin = rows[0];
    if (twin) {
      await releaseInstanceUsage(trx, { instanceId: twin.id, vaId: twin.va_id });
      await trx.deleteFrom('instances').where('id', '=', twin.id).execute();
    }
    await sql`insert into instances (id, va_id, token_id, pid, sn, hostname, software_tag, public_key_spki,
      id_cert_pem, id_cert_serial, id_cert_expires_at, registered_at, last_contact_at, export_controlled, compliance_status)
      values (${i.id}, ${i.vaId}, ${null}, ${i.pid}, ${i.sn}, ${i.hostname}, ${i.softwareTag}, ${i.publicKeySpki},
      ${''}, ${i.idCertSerial}, ${i.idCertExpiresAt}, ${i.registeredAt}, ${i.lastContactAt}, ${exportControlled},
      ${i.complianceStatus})`.execute(trx);
  }
  await replaceInstanceUsage(trx, { instanceId: i.id, vaId: i.vaId }, current, i.usage);
}

async function removeMirrored(trx: Kysely<Database>, id: string, vaIds: ReadonlySet<string>): Promise<boolean> {
  const row = await trx.selectFrom('instances').select(['va_id']).where('id', '=', id).executeTakeFirst();
  if (!row || !vaIds.has(row.va_id)) return false;
  await releaseInstanceUsage(trx, { instanceId: id, vaId: row.va_id });
  await trx.deleteFrom('instances').where('id', '=', id).execute();
  return true;
}
