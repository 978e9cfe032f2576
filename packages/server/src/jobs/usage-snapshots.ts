import type { Kysely } from 'kysely';
import { readBalances } from '../features/compliance/balances.js';
import type { Database } from '../storage/schema.js';

/** The UTC day of a time, `YYYY-MM-DD`. */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * Takes today's snapshot of every VA's quantity and in-use per tag (for usage reports over
 * time). The first run of a day writes it; later runs that day leave it as it is.
 */
export async function takeUsageSnapshots(trx: Kysely<Database>, now: number): Promise<number> {
  const day = dayOf(now);
  const vas = await trx.selectFrom('virtual_accounts').select('id').orderBy('id').execute();
  let written = 0;
  for (const va of vas) {
    for (const [tag, balance] of await readBalances(trx, va.id, now)) {
      const result = await trx
        .insertInto('usage_snapshots')
        .values({ va_id: va.id, tag, day, quantity: balance.quantity, in_use: balance.inUse, taken_at: now })
        .onConflict((oc) => oc.columns(['va_id', 'tag', 'day']).doNothing())
        .executeTakeFirst();
      written += Number(result.numInsertedOrUpdatedRows ?? 0n);
    }
  }
  return written;
}
