import type BetterSqlite3 from 'better-sqlite3';
import type { AuthorizationStatements, BalanceRow, UsageRow } from './device-statements.js';
import { placeholders } from './device-statements.js';

// Hand-written SQL for SQLite, bypassing Kysely on the authorization hot path (issue 15); the
// Kysely twins and the test that holds them equal are named in `device-statements.ts`.

const RECORD_NONCE = 'insert into nonces (nonce, seen_at) values (?, ?) on conflict (nonce) do nothing';
const TOUCH_INSTANCE = `update instances set last_contact_at = ?
  where id = ? and (id_cert_serial = ? or previous_id_cert_serial = ?)
  returning va_id, compliance_status, silent_counted`;
const READ_USAGE = 'select tag, count, display_name from instance_usage where instance_id = ?';

/** The balance statement for `n` tags (the same text as `readBalances` in `compliance/balances.ts`). */
function balancesSql(n: number): string {
  const tags = placeholders(n, () => '?');
  return `select tag, sum(quantity) as quantity, sum(in_use) as in_use, max(display_name) as display_name from (
      select tag, quantity, 0 as in_use, display_name from license_pools
        where va_id = ? and starts_at <= ? and (ends_at is null or ends_at > ?) and tag in (${tags})
      union all
      select tag, 0 as quantity, in_use, null as display_name from va_usage
        where va_id = ? and in_use <> 0 and tag in (${tags})
    ) as balance group by tag`;
}

/** Balance statements are kept for requests of up to this many tags; longer ones are prepared each time. */
const MAX_CACHED_TAGS = 32;

/**
 * The statement of `text` on `sqlite`, prepared on its first use and kept (unless `cache` is
 * false): the database is opened before its migrations create the tables.
 */
export function preparedOnFirstUse(sqlite: BetterSqlite3.Database) {
  const prepared = new Map<string, BetterSqlite3.Statement>();
  return <R = unknown>(text: string, cache = true): BetterSqlite3.Statement<unknown[], R> => {
    let found = prepared.get(text);
    if (!found) {
      found = sqlite.prepare(text);
      if (cache) prepared.set(text, found);
    }
    return found as BetterSqlite3.Statement<unknown[], R>;
  };
}

/**
 * Prepared better-sqlite3 statements on the server's one connection. They run synchronously,
 * so inside a unit of work they belong to the transaction that holds that connection.
 */
export function createSqliteDeviceStatements(sqlite: BetterSqlite3.Database): AuthorizationStatements {
  const statement = preparedOnFirstUse(sqlite);
  const recordNonce = () => statement(RECORD_NONCE);
  const touch = () =>
    statement<{ va_id: string; compliance_status: string | null; silent_counted: number }>(TOUCH_INSTANCE);
  const readUsage = () => statement<{ tag: string; count: number; display_name: string | null }>(READ_USAGE);
  const balanceTexts = new Map<number, string>();
  const balanceStatement = (n: number) => {
    let text = balanceTexts.get(n);
    if (text === undefined) {
      text = balancesSql(n);
      if (n <= MAX_CACHED_TAGS) balanceTexts.set(n, text);
    }
    return statement<{ tag: string; quantity: number; in_use: number; display_name: string | null }>(
      text,
      n <= MAX_CACHED_TAGS,
    );
  };

  return {
    async recordNonce(_trx, nonce, now) {
      return recordNonce().run(nonce, now).changes === 1;
    },
    async touchInstanceInVa(_trx, id, idCertSerial, now) {
      const row = touch().get(now, id, idCertSerial, idCertSerial);
      return (
        row && {
          vaId: row.va_id,
          complianceStatus: row.compliance_status,
          silentCounted: Number(row.silent_counted) === 1,
        }
      );
    },
    async readInstanceUsage(_trx, instanceId): Promise<UsageRow[]> {
      return readUsage()
        .all(instanceId)
        .map((r) => ({ tag: r.tag, count: Number(r.count), displayName: r.display_name }));
    },
    async readBalances(_trx, vaId, now, tags) {
      const rows = balanceStatement(tags.length).all(vaId, now, now, ...tags, vaId, ...tags);
      return new Map<string, BalanceRow>(
        rows.map((r) => [
          r.tag,
          { quantity: Number(r.quantity), inUse: Number(r.in_use), displayName: r.display_name },
        ]),
      );
    },
  };
}
