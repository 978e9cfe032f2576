import type { InstanceSnapshot } from './sync-format.js';

/**
 * The instances of a sync request (`smartlic-sync/2`) as one table: a row per instance, its
 * cells in the order of {@link INSTANCE_COLUMNS}, and the values many rows repeat (VA ids,
 * PIDs, software tags, compliance states, usage tags and names) written once in `strings`,
 * the rows naming them by index. Written and read in one pass; a third of the size of an
 * object per instance, and no member names to check on the way in.
 *
 * A row: `[id, va#, pid#, sn, hostname|null, softwareTag#, publicKeySpki, idCertSerial,
 * idCertExpiresAt, registeredAt, lastContactAt, exportControlled (0|1), complianceStatus#|null,
 * usage]`, where usage is flat triples `[tag#, count, displayName#|null, …]` and `#` an index
 * into `strings`. Members in code-unit order (columns, rows, strings): canonical as written.
 */
export interface InstanceTable {
  columns: string[];
  rows: InstanceTableRow[];
  strings: string[];
}

/** One row of an {@link InstanceTable}. */
export type InstanceTableRow = [
  id: string,
  va: number,
  pid: number,
  sn: string,
  hostname: string | null,
  softwareTag: number,
  publicKeySpki: string,
  idCertSerial: string,
  idCertExpiresAt: number,
  registeredAt: number,
  lastContactAt: number,
  exportControlled: 0 | 1,
  complianceStatus: number | null,
  usage: Array<number | null>,
];

/** The table's columns, in row order; a table naming others is refused. */
export const INSTANCE_COLUMNS = [
  'id',
  'vaId',
  'pid',
  'sn',
  'hostname',
  'softwareTag',
  'publicKeySpki',
  'idCertSerial',
  'idCertExpiresAt',
  'registeredAt',
  'lastContactAt',
  'exportControlled',
  'complianceStatus',
  'usage',
] as const;

/** The columns of an instance row as the journal reads them from the database. */
export interface InstanceSource {
  id: string;
  va_id: string;
  pid: string;
  sn: string;
  hostname: string | null;
  software_tag: string;
  public_key_spki: string;
  id_cert_serial: string;
  id_cert_expires_at: number | string;
  registered_at: number | string;
  last_contact_at: number | string;
  export_controlled: number | string;
  compliance_status?: string | null | undefined;
}

/** Builds a table row by row, straight from database rows (no snapshot objects in between). */
export function instanceTableBuilder() {
  const strings: string[] = [];
  const index = new Map<string, number>();
  const rows: InstanceTableRow[] = [];
  const ref = (value: string): number => {
    let i = index.get(value);
    if (i === undefined) {
      i = strings.length;
      strings.push(value);
      index.set(value, i);
    }
    return i;
  };
  return {
    /** Adds an instance (usage follows with {@link addUsage}). */
    add(r: InstanceSource): void {
      rows.push([
        r.id,
        ref(r.va_id),
        ref(r.pid),
        r.sn,
        r.hostname,
        ref(r.software_tag),
        r.public_key_spki,
        r.id_cert_serial,
        Number(r.id_cert_expires_at),
        Number(r.registered_at),
        Number(r.last_contact_at),
        Number(r.export_controlled) === 1 ? 1 : 0,
        r.compliance_status === null || r.compliance_status === undefined ? null : ref(r.compliance_status),
        [],
      ]);
    },
    /** Adds a usage entry to the instance added last. */
    addUsage(tag: string, count: number, displayName: string | null): void {
      rows[rows.length - 1]?.[13].push(ref(tag), count, displayName === null ? null : ref(displayName));
    },
    get size(): number {
      return rows.length;
    },
    table(): InstanceTable {
      return { columns: [...INSTANCE_COLUMNS], rows, strings };
    },
  };
}

/** Writes snapshots as a table. */
export function toInstanceTable(instances: readonly InstanceSnapshot[]): InstanceTable {
  const builder = instanceTableBuilder();
  for (const i of instances) {
    builder.add({
      id: i.id,
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
    });
    for (const u of i.usage) builder.addUsage(u.tag, u.count, u.displayName);
  }
  return builder.table();
}

/**
 * The lengths an instance's texts may have, at most: InstanceSnapshot's schema (`sync-format.ts`)
 * and the table's cell-by-cell check both take them from here.
 */
export const SNAPSHOT_LIMITS = {
  /** An instance or VA id (at least one character). */
  id: 200,
  /** PID, SN, certificate serial. */
  short: 200,
  /** Hostname, software tag, usage tags and display names. */
  name: 500,
  /** The public key (SPKI, base64). */
  key: 10_000,
  /** The compliance status. */
  status: 100,
} as const;
const { id: ID_MAX, short: SHORT_MAX, name: NAME_MAX, key: KEY_MAX, status: STATUS_MAX } = SNAPSHOT_LIMITS;
/** Strings a table may hold at most (two VAs' worth of distinct tags is far less). */
const STRINGS_MAX = 1_000_000;

const isText = (v: unknown, min: number, max: number): v is string =>
  typeof v === 'string' && v.length >= min && v.length <= max;
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Reads a table back into snapshots, checking every cell as InstanceSnapshot's schema does;
 * undefined when anything is not as written by {@link toInstanceTable}.
 */
export function readInstanceTable(value: unknown): InstanceSnapshot[] | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const { columns, rows, strings } = value as Record<string, unknown>;
  if (!Array.isArray(columns) || columns.length !== INSTANCE_COLUMNS.length) return undefined;
  if (!INSTANCE_COLUMNS.every((c, i) => columns[i] === c)) return undefined;
  if (!Array.isArray(rows) || !Array.isArray(strings) || strings.length > STRINGS_MAX) return undefined;
  if (!strings.every((s) => isText(s, 0, KEY_MAX))) return undefined;
  const text = strings as string[];
  /** The string `ref` names, if it is an index of one within `min`..`max` characters. */
  const at = (ref: unknown, min: number, max: number): string | undefined => {
    if (typeof ref !== 'number' || !Number.isInteger(ref) || ref < 0 || ref >= text.length) return undefined;
    const s = text[ref] as string;
    return s.length >= min && s.length <= max ? s : undefined;
  };
  const out: InstanceSnapshot[] = new Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    if (!Array.isArray(row) || row.length !== INSTANCE_COLUMNS.length) return undefined;
    const [id, va, pid, sn, hostname, softwareTag, spki, serial, expiresAt, registeredAt, lastContactAt, ec, cs, u] =
      row as unknown[];
    const vaId = at(va, 1, ID_MAX);
    const pidText = at(pid, 0, SHORT_MAX);
    const tag = at(softwareTag, 0, NAME_MAX);
    const status = cs === null ? null : at(cs, 0, STATUS_MAX);
    if (
      !isText(id, 1, ID_MAX) ||
      vaId === undefined ||
      pidText === undefined ||
      !isText(sn, 0, SHORT_MAX) ||
      !(hostname === null || isText(hostname, 0, NAME_MAX)) ||
      tag === undefined ||
      !isText(spki, 0, KEY_MAX) ||
      !isText(serial, 0, SHORT_MAX) ||
      !isNumber(expiresAt) ||
      !isNumber(registeredAt) ||
      !isNumber(lastContactAt) ||
      (ec !== 0 && ec !== 1) ||
      status === undefined ||
      !Array.isArray(u) ||
      u.length % 3 !== 0
    ) {
      return undefined;
    }
    const usage: InstanceSnapshot['usage'] = [];
    for (let k = 0; k < u.length; k += 3) {
      const usageTag = at(u[k], 0, NAME_MAX);
      const count = u[k + 1];
      const name = u[k + 2] === null ? null : at(u[k + 2], 0, NAME_MAX);
      if (usageTag === undefined || !Number.isInteger(count) || name === undefined) return undefined;
      usage.push({ count: count as number, displayName: name, tag: usageTag });
    }
    out[r] = {
      complianceStatus: status,
      exportControlled: ec === 1,
      hostname,
      id,
      idCertExpiresAt: expiresAt,
      idCertSerial: serial,
      lastContactAt,
      pid: pidText,
      publicKeySpki: spki,
      registeredAt,
      sn,
      softwareTag: tag,
      usage,
      vaId,
    };
  }
  return out;
}
