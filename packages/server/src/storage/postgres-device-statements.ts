import { CompiledQuery, type Kysely } from 'kysely';
import type { AuthorizationStatements, BalanceRow, UsageRow } from './device-statements.js';
import { placeholders } from './device-statements.js';
import type { Database } from './schema.js';

// Hand-written SQL for PostgreSQL, bypassing Kysely's query building on the authorization hot
// path (issue 15). The texts are fixed, so `postgres.ts` sends each as a named statement:
// parsed and planned once per connection, then only bound and executed. The Kysely twins and
// the test that holds them equal are named in `device-statements.ts`.

const RECORD_NONCE = 'insert into nonces (nonce, seen_at) values ($1, $2) on conflict (nonce) do nothing';
const TOUCH_INSTANCE = `update instances set last_contact_at = $1
  where id = $2 and (id_cert_serial = $3 or previous_id_cert_serial = $3)
  returning va_id, compliance_status, silent_counted`;
const READ_USAGE = 'select tag, count, display_name from instance_usage where instance_id = $1';

/** Balance statements are named for requests of up to this many tags; longer ones are sent unnamed. */
const MAX_NAMED_TAGS = 8;

/** The balance statement for `n` tags (the same as `readBalances` in `compliance/balances.ts`). */
function balancesSql(n: number): string {
  const tags = placeholders(n, (i) => `$${i + 3}`);
  return `select tag, sum(quantity) as quantity, sum(in_use) as in_use, max(display_name) as display_name from (
      select tag, quantity, 0 as in_use, display_name from license_pools
        where va_id = $1 and starts_at <= $2 and (ends_at is null or ends_at > $2) and tag in (${tags})
      union all
      select tag, 0 as quantity, in_use, null as display_name from va_usage
        where va_id = $1 and in_use <> 0 and tag in (${tags})
    ) as balance group by tag`;
}

const BALANCES = Array.from({ length: MAX_NAMED_TAGS }, (_, i) => balancesSql(i + 1));

/**
 * The statements `postgres.ts` sends by name (text → name). Only fixed texts of this module:
 * a named statement lives as long as its connection, so their number must stay small.
 */
export const NAMED_STATEMENTS: ReadonlyMap<string, string> = new Map([
  [RECORD_NONCE, 'smartlic_record_nonce'],
  [TOUCH_INSTANCE, 'smartlic_touch_instance'],
  [READ_USAGE, 'smartlic_read_usage'],
  ...BALANCES.map((text, i) => [text, `smartlic_balances_${i + 1}`] as const),
]);

/** The hot statements, run on the unit's transaction without Kysely's query building. */
export function createPostgresDeviceStatements(): AuthorizationStatements {
  const run = <R>(trx: Kysely<Database>, text: string, parameters: readonly unknown[]) =>
    trx.executeQuery<R>(CompiledQuery.raw(text, [...parameters]));
  return {
    async recordNonce(trx, nonce, now) {
      const result = await run(trx, RECORD_NONCE, [nonce, now]);
      return result.numAffectedRows === 1n;
    },
    async touchInstanceInVa(trx, id, idCertSerial, now) {
      const { rows } = await run<{ va_id: string; compliance_status: string | null; silent_counted: number }>(
        trx,
        TOUCH_INSTANCE,
        [now, id, idCertSerial],
      );
      const row = rows[0];
      return (
        row && {
          vaId: row.va_id,
          complianceStatus: row.compliance_status,
          silentCounted: Number(row.silent_counted) === 1,
        }
      );
    },
    async readInstanceUsage(trx, instanceId): Promise<UsageRow[]> {
      const { rows } = await run<{ tag: string; count: number; display_name: string | null }>(trx, READ_USAGE, [
        instanceId,
      ]);
      return rows.map((r) => ({ tag: r.tag, count: Number(r.count), displayName: r.display_name }));
    },
    async readBalances(trx, vaId, now, tags) {
      const text = BALANCES[tags.length - 1] ?? balancesSql(tags.length);
      const { rows } = await run<{ tag: string; quantity: number; in_use: number; display_name: string | null }>(
        trx,
        text,
        [vaId, now, ...tags],
      );
      return new Map<string, BalanceRow>(
        rows.map((r) => [
          r.tag,
          { quantity: Number(r.quantity), inUse: Number(r.in_use), displayName: r.display_name },
        ]),
      );
    },
  };
}
