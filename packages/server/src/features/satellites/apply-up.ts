import type { Kysely } from 'kysely';
import type { Database } from '../../storage/schema.js';
import { readInstanceUsage, releaseInstanceUsage, replaceInstanceUsage } from '../compliance/usage-store.js';
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
  for (const i of up.instances) await upsertInstance(trx, i);
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
    await trx
      .insertInto('events')
      .values({
        id: sortableEventId(),
        at: e.at,
        account_id: satellite.accountId,
        va_id: e.vaId !== null && satellite.vaIds.has(e.vaId) ? e.vaId : null,
        actor: `satellite:${satellite.name}/${e.actor}`.slice(0, 500),
        type: e.type,
        detail: JSON.stringify({ ...e.detail, satellite: satellite.name }),
      })
      .execute();
  }
  return { instances: up.instances.length, removed, events: up.events.length };
}

async function upsertInstance(trx: Kysely<Database>, i: InstanceSnapshot): Promise<void> {
  const existing = await trx.selectFrom('instances').select(['va_id']).where('id', '=', i.id).executeTakeFirst();
  const row = {
    va_id: i.vaId,
    pid: i.pid,
    sn: i.sn,
    hostname: i.hostname,
    software_tag: i.softwareTag,
    public_key_spki: i.publicKeySpki,
    id_cert_serial: i.idCertSerial,
    id_cert_expires_at: i.idCertExpiresAt,
    registered_at: i.registeredAt,
    last_contact_at: i.lastContactAt,
    export_controlled: i.exportControlled ? 1 : 0,
    compliance_status: i.complianceStatus,
  };
  if (existing && existing.va_id !== i.vaId) {
    // Moved between the satellite's VAs: its usage leaves the old VA's totals first.
    await releaseInstanceUsage(trx, { instanceId: i.id, vaId: existing.va_id });
  }
  if (existing) {
    await trx.updateTable('instances').set(row).where('id', '=', i.id).execute();
  } else {
    // A device of another node may hold this UDI here only through an earlier mirror: replace it.
    const twin = await trx
      .selectFrom('instances')
      .select(['id', 'va_id'])
      .where('pid', '=', i.pid)
      .where('sn', '=', i.sn)
      .executeTakeFirst();
    if (twin) {
      await releaseInstanceUsage(trx, { instanceId: twin.id, vaId: twin.va_id });
      await trx.deleteFrom('instances').where('id', '=', twin.id).execute();
    }
    await trx
      .insertInto('instances')
      .values({ id: i.id, token_id: null, id_cert_pem: '', ...row })
      .execute();
  }
  const current = await readInstanceUsage(trx, i.id);
  await replaceInstanceUsage(trx, { instanceId: i.id, vaId: i.vaId }, current, i.usage);
}

async function removeMirrored(trx: Kysely<Database>, id: string, vaIds: ReadonlySet<string>): Promise<boolean> {
  const row = await trx.selectFrom('instances').select(['va_id']).where('id', '=', id).executeTakeFirst();
  if (!row || !vaIds.has(row.va_id)) return false;
  await releaseInstanceUsage(trx, { instanceId: id, vaId: row.va_id });
  await trx.deleteFrom('instances').where('id', '=', id).execute();
  return true;
}
