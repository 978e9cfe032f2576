import { type Kysely, sql } from 'kysely';
import type { Database, InstanceRow } from '../../storage/schema.js';
import { type InstanceTable, instanceTableBuilder } from '../satellites/instance-table.js';
import type { EventSnapshot, InstanceSnapshot } from '../satellites/sync-format.js';

/** What a request carries up, and the cursors it moves to once answered. */
export interface JournalChanges {
  instances: InstanceTable;
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

  const table = instanceTableBuilder();
  const removed: string[] = [];
  if (o.full) {
    // One ordered read of every instance with its usage (a full sync of 100,000 is one statement).
    const { rows } = await sql<SnapshotRow & UsageColumns>`
      select i.id, i.va_id, i.pid, i.sn, i.hostname, i.software_tag, i.public_key_spki, i.id_cert_serial,
        i.id_cert_expires_at, i.registered_at, i.last_contact_at, i.export_controlled, i.compliance_status,
        u.tag, u.count, u.display_name
      from instances i left join instance_usage u on u.instance_id = i.id
      order by i.id, u.tag`.execute(db);
    let last: string | undefined;
    for (const r of rows) {
      if (r.id !== last) table.add(r);
      last = r.id;
      if (r.tag !== null) table.addUsage(r.tag, Number(r.count), r.display_name);
    }
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
    const rows: SnapshotRow[] = [];
    for (let i = 0; i < ids.length; i += CHUNK) {
      rows.push(
        ...(await db
          .selectFrom('instances')
          .select(SNAPSHOT_COLUMNS)
          .where('id', 'in', ids.slice(i, i + CHUNK))
          .execute()),
      );
    }
    const found = new Set(rows.map((r) => r.id));
    for (const id of ids) if (!found.has(id)) removed.push(id);
    rows.sort((a, b) => (a.id < b.id ? -1 : 1));
    const usage = await readUsage(db, rows);
    for (const r of rows) {
      table.add(r);
      for (const u of usage.get(r.id) ?? []) table.addUsage(u.tag, u.count, u.displayName);
    }
  }
  return { instances: table.table(), removed, events, eventCursor, contactCursor: o.now };
}

type Usage = InstanceSnapshot['usage'];
interface UsageColumns {
  tag: string | null;
  count: number | null;
  display_name: string | null;
}

/** The columns a snapshot carries (not the device's certificate text, which stays here). */
const SNAPSHOT_COLUMNS = [
  'id',
  'va_id',
  'pid',
  'sn',
  'hostname',
  'software_tag',
  'public_key_spki',
  'id_cert_serial',
  'id_cert_expires_at',
  'registered_at',
  'last_contact_at',
  'export_controlled',
  'compliance_status',
] as const;
type SnapshotRow = Pick<InstanceRow, (typeof SNAPSHOT_COLUMNS)[number]>;

async function readUsage(db: Kysely<Database>, rows: readonly SnapshotRow[]): Promise<Map<string, Usage>> {
  const byInstance = new Map<string, Usage>();
  const ids = rows.map((r) => r.id);
  for (let i = 0; i < ids.length; i += CHUNK) {
    const usage = await db
      .selectFrom('instance_usage')
      .selectAll()
      .where('instance_id', 'in', ids.slice(i, i + CHUNK))
      .orderBy('tag')
      .execute();
    for (const r of usage) {
      const list = byInstance.get(r.instance_id) ?? [];
      list.push({ count: Number(r.count), displayName: r.display_name, tag: r.tag });
      byInstance.set(r.instance_id, list);
    }
  }
  return byInstance;
}
