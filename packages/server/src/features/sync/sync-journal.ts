import { type Kysely, sql } from 'kysely';
import type { Database, InstanceRow } from '../../storage/schema.js';
import type { EventSnapshot, InstanceSnapshot } from '../satellites/sync-format.js';

/** What a request carries up, and the cursors it moves to once answered. */
export interface JournalChanges {
  instances: InstanceSnapshot[];
  removed: string[];
  events: EventSnapshot[];
  eventCursor: string;
  contactCursor: number;
}

/** Event types of the sync itself: local bookkeeping, never sent up. */
const LOCAL_TYPES = ['sync.registered', 'sync.applied'];
const CHUNK = 500;

/**
 * Reads the changes after the acknowledged cursors (ADR 0012). The journal is the event log:
 * every change of an instance records its event in the change's own transaction, and event ids
 * sort in the order they were recorded; so the events after `eventCursor`, in id order, are the
 * changes not yet acknowledged. Each instance they name goes up with its whole current state
 * (or as removed when it is gone), together with the instances contacted since `contactCursor`
 * (a renewal that changed nothing records no event). A full read sends every instance instead.
 */
export async function readJournal(
  db: Kysely<Database>,
  o: { eventCursor: string; contactCursor: number; full: boolean; now: number },
): Promise<JournalChanges> {
  const eventRows = await db.selectFrom('events').selectAll().where('id', '>', o.eventCursor).orderBy('id').execute();
  const eventCursor = eventRows.at(-1)?.id ?? o.eventCursor;
  const events: EventSnapshot[] = eventRows
    .filter((e) => !LOCAL_TYPES.includes(e.type))
    .map((e) => ({
      id: e.id,
      at: Number(e.at),
      actor: e.actor,
      type: e.type,
      vaId: e.va_id,
      detail: JSON.parse(e.detail) as Record<string, unknown>,
    }));

  let rows: InstanceRow[];
  const removed: string[] = [];
  if (o.full) {
    rows = await db.selectFrom('instances').selectAll().orderBy('id').execute();
  } else {
    const named = new Set<string>();
    for (const e of events) {
      const id = e.detail.instanceId;
      if (typeof id === 'string') named.add(id);
    }
    const contacted = await db
      .selectFrom('instances')
      .select('id')
      .where('last_contact_at', '>=', o.contactCursor)
      .execute();
    for (const r of contacted) named.add(r.id);
    const ids = [...named].sort();
    rows = [];
    for (let i = 0; i < ids.length; i += CHUNK) {
      rows.push(
        ...(await db
          .selectFrom('instances')
          .selectAll()
          .where('id', 'in', ids.slice(i, i + CHUNK))
          .execute()),
      );
    }
    const found = new Set(rows.map((r) => r.id));
    for (const id of ids) if (!found.has(id)) removed.push(id);
    rows.sort((a, b) => (a.id < b.id ? -1 : 1));
  }
  const usage = await readUsage(db, rows, o.full);
  const instances = rows.map((r) => toSnapshot(r, usage.get(r.id) ?? []));
  return { instances, removed, events, eventCursor, contactCursor: o.now };
}

type Usage = InstanceSnapshot['usage'];

async function readUsage(
  db: Kysely<Database>,
  rows: readonly InstanceRow[],
  all: boolean,
): Promise<Map<string, Usage>> {
  const byInstance = new Map<string, Usage>();
  const add = (r: { instance_id: string; tag: string; count: number; display_name: string | null }) => {
    const list = byInstance.get(r.instance_id) ?? [];
    list.push({ tag: r.tag, count: Number(r.count), displayName: r.display_name });
    byInstance.set(r.instance_id, list);
  };
  if (all) {
    const { rows: usage } = await sql<{ instance_id: string; tag: string; count: number; display_name: string | null }>`
      select instance_id, tag, count, display_name from instance_usage order by instance_id, tag`.execute(db);
    for (const r of usage) add(r);
    return byInstance;
  }
  const ids = rows.map((r) => r.id);
  for (let i = 0; i < ids.length; i += CHUNK) {
    const usage = await db
      .selectFrom('instance_usage')
      .selectAll()
      .where('instance_id', 'in', ids.slice(i, i + CHUNK))
      .orderBy('tag')
      .execute();
    for (const r of usage) add(r);
  }
  return byInstance;
}

function toSnapshot(r: InstanceRow, usage: Usage): InstanceSnapshot {
  return {
    id: r.id,
    vaId: r.va_id,
    pid: r.pid,
    sn: r.sn,
    hostname: r.hostname,
    softwareTag: r.software_tag,
    publicKeySpki: r.public_key_spki,
    idCertSerial: r.id_cert_serial,
    idCertExpiresAt: Number(r.id_cert_expires_at),
    registeredAt: Number(r.registered_at),
    lastContactAt: Number(r.last_contact_at),
    exportControlled: Number(r.export_controlled) === 1,
    complianceStatus: r.compliance_status ?? null,
    usage,
  };
}
