import type { Kysely } from 'kysely';
import { placeholders } from './device-statements.js';
import type { Database, EventRow, InstanceRow, TokenRow } from './schema.js';

/** The columns a registration writes into a new instance (the others keep their defaults). */
export type RegisteredInstanceRow = Omit<
  InstanceRow,
  | 'compliance_status'
  | 'previous_id_cert_serial'
  | 'previous_public_key_spki'
  | 'previous_id_cert_expires_at'
  | 'silent_counted'
>;

/** The instance holding a UDI: what registration needs of it. */
export type UdiHolder = Pick<InstanceRow, 'id' | 'va_id'>;

/** A VA that a satellite serves: the names its refusal gives. */
export interface ServingSatellite {
  va: string;
  satellite: string;
}

/**
 * The statements every registration runs, prepared once per connection (issue 15, ADR 0021),
 * beside the authorization's in {@link DeviceStatements}: better-sqlite3 statements on SQLite
 * (`sqlite-registration-statements.ts`), named statements on PostgreSQL
 * (`postgres-registration-statements.ts`). Each gives what its Kysely twin gives for the same
 * input (`tokens/token-store.ts` `findTokenByValue` and `consumeTokenUse`,
 * `satellites/served-vas.ts`, `instances/instance-store.ts` `findInstanceByUdi` and
 * `insertInstance`, `events/event-recorder.ts` `recordEvent`); `registration-statements.test.ts`
 * holds both paths to that. Writes belong inside a unit of work, with its `trx`. A read outside
 * one (`db`) on SQLite runs on the one connection at once, and may see the writes of a batch
 * that has not committed yet: use it only for a preview that the unit checks again.
 */
export interface RegistrationStatements {
  /** The token whose SHA-256 (hex, `tokenHash`) is `hash`. */
  findTokenByHash(trx: Kysely<Database>, hash: string): Promise<TokenRow | undefined>;
  /** The satellite serving `vaId`, with the VA's name, or undefined when the authority serves it. */
  findServingSatellite(trx: Kysely<Database>, vaId: string): Promise<ServingSatellite | undefined>;
  /** The live instance with this UDI, if any. */
  findInstanceByUdi(trx: Kysely<Database>, pid: string, sn: string): Promise<UdiHolder | undefined>;
  /** Counts one use of a token if it is still usable at `now`; false otherwise. */
  consumeTokenUse(trx: Kysely<Database>, id: string, now: number): Promise<boolean>;
  /** Inserts a new instance; a UDI or id already present fails with the engine's unique violation. */
  insertInstance(trx: Kysely<Database>, row: RegisteredInstanceRow): Promise<void>;
  /** Appends one row to the event log (no alert deliveries: `recordEvent` decides those). */
  insertEvent(trx: Kysely<Database>, row: EventRow): Promise<void>;
}

/** The instance columns a registration writes, in the order the statements bind them. */
export const REGISTERED_INSTANCE_COLUMNS = [
  'id',
  'va_id',
  'token_id',
  'pid',
  'sn',
  'hostname',
  'software_tag',
  'public_key_spki',
  'id_cert_pem',
  'id_cert_serial',
  'id_cert_expires_at',
  'registered_at',
  'last_contact_at',
  'export_controlled',
] as const satisfies readonly (keyof RegisteredInstanceRow)[];

/** The event columns, in the order the statements bind them. */
export const EVENT_COLUMNS = [
  'id',
  'at',
  'actor',
  'type',
  'account_id',
  'va_id',
  'detail',
] as const satisfies readonly (keyof EventRow)[];

/**
 * The registration's SQL texts, the same on both engines but for how a parameter is marked
 * (`mark(i)`: `?` on SQLite, `$1`… on PostgreSQL).
 */
export function registrationSql(mark: (i: number) => string) {
  return {
    findToken: `select * from tokens where token_hash = ${mark(0)}`,
    servingSatellite: `select v.name as va, t.name as satellite from satellite_vas s
  inner join satellites t on t.id = s.satellite_id
  inner join virtual_accounts v on v.id = s.va_id
  where s.va_id = ${mark(0)}`,
    findInstanceByUdi: `select id, va_id from instances where pid = ${mark(0)} and sn = ${mark(1)}`,
    consumeTokenUse: `update tokens set uses = uses + 1
  where id = ${mark(0)} and revoked_at is null and expires_at > ${mark(1)} and (max_uses is null or uses < max_uses)`,
    insertInstance: `insert into instances (${REGISTERED_INSTANCE_COLUMNS.join(', ')})
  values (${placeholders(REGISTERED_INSTANCE_COLUMNS.length, mark)})`,
    insertEvent: `insert into events (${EVENT_COLUMNS.join(', ')})
  values (${placeholders(EVENT_COLUMNS.length, mark)})`,
  };
}
