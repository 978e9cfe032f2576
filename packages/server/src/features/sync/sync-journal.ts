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

  let rows: SnapshotRow[];
  const removed: string[] = [];
  if (o.full) {
    rows = await db.selectFrom('instances').select(SNAPSHOT_COLUMNS).orderBy('id').execute();
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
          .select(SNAPSHOT_COLUMNS)
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

async function readUsage(
  db: Kysely<Database>,
  rows: readonly SnapshotRow[],
  all: boolean,
): Promise<Map<string, Usage>> {
  const byInstance = new Map<string, Usage>();
  const add = (r: { instance_id: string; tag: string; count: number; display_name: string | null }) => {
    const list = byInstance.get(r.instance_id) ?? [];
    list.push({ count: Number(r.count), displayName: r.display_name, tag: r.tag });
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

/** A snapshot with its members in code-unit order (see InstanceSnapshot). */
function toSnapshot(r: SnapshotRow, usage: Usage): InstanceSnapshot {
  return {
    complianceStatus: r.compliance_status ?? null,
    exportControlled: Number(r.export_controlled) === 1,
    hostname: r.hostname,
    id: r.id,
    idCertExpiresAt: Number(r.id_cert_expires_at),
    idCertSerial: r.id_cert_serial,
    lastContactAt: Number(r.last_contact_at),
    pid: r.pid,
    publicKeySpki: r.public_key_spki,
    registeredAt: Number(r.registered_at),
    sn: r.sn,
    softwareTag: r.software_tag,
    usage,
    vaId: r.va_id,
  };
}
