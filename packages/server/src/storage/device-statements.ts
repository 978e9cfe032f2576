import type { Kysely } from 'kysely';
import type { RegistrationStatements } from './registration-statements.js';
import type { Database } from './schema.js';

/** One tag an instance reports in use, as `instance_usage` holds it. */
export interface UsageRow {
  tag: string;
  count: number;
  displayName: string | null;
}

/** A tag's quantity (pools active now), in-use total and the display name its pools give it. */
export interface BalanceRow {
  quantity: number;
  inUse: number;
  displayName: string | null;
}

/**
 * The statements every authorization renewal runs, prepared once per connection (issue 15):
 * better-sqlite3 statements on SQLite (`sqlite-device-statements.ts`), named statements on
 * PostgreSQL (`postgres-device-statements.ts`). Each gives what its Kysely twin gives for the
 * same input (`nonce-store.ts`, `instance-store.ts`, `usage-store.ts`, `balances.ts`; a test
 * holds both paths to that). Call them inside a unit of work, with its `trx`: on SQLite they
 * run on the one connection that the unit's transaction holds. Everything else stays Kysely.
 * The registration's statements come with them ({@link RegistrationStatements}, ADR 0021).
 */
export interface DeviceStatements extends RegistrationStatements {
  /** Records a nonce; false when it was seen before (a replay). */
  recordNonce(trx: Kysely<Database>, nonce: string, now: number): Promise<boolean>;
  /**
   * Sets the instance's last contact if it still accepts the certificate `idCertSerial`;
   * answers its VA, compliance status and whether it is counted silent (`uncountSilent` it
   * then, in the same unit), or undefined.
   */
  touchInstanceInVa(
    trx: Kysely<Database>,
    id: string,
    idCertSerial: string,
    now: number,
  ): Promise<{ vaId: string; complianceStatus: string | null; silentCounted: boolean } | undefined>;
  /** What an instance reports in use. */
  readInstanceUsage(trx: Kysely<Database>, instanceId: string): Promise<UsageRow[]>;
  /** Balances of `tags` (non-empty) in a VA at `now`, for the tags that have an active pool or usage. */
  readBalances(
    trx: Kysely<Database>,
    vaId: string,
    now: number,
    tags: readonly string[],
  ): Promise<Map<string, BalanceRow>>;
}

/** The authorization's own statements: {@link DeviceStatements} without the registration's. */
export type AuthorizationStatements = Omit<DeviceStatements, keyof RegistrationStatements>;

/** Statement text with `?` placeholders, `count` of them, comma-separated: `?, ?, ?`. */
export function placeholders(count: number, mark: (i: number) => string): string {
  return Array.from({ length: count }, (_, i) => mark(i)).join(', ');
}
