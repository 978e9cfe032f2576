import type { Kysely } from 'kysely';
import type { Logger } from '../../logger.js';
import type { Database } from '../../storage/schema.js';
import type { Transactor } from '../../storage/transactor.js';

/**
 * Recomputes the VA usage totals from the instances' usage and repairs them if they differ
 * (they never should; a difference is logged as a warning). Run at start-up.
 */
export async function reconcileUsageTotals(transactor: Transactor, logger?: Logger): Promise<number> {
  return transactor.run(async (trx) => {
    const expected = await computeTotals(trx);
    const stored = await trx.selectFrom('va_usage').select(['va_id', 'tag', 'in_use']).execute();
    const storedMap = new Map(stored.filter((r) => Number(r.in_use) !== 0).map((r) => [key(r), Number(r.in_use)]));
    const wrong = [...new Set([...expected.keys(), ...storedMap.keys()])].filter(
      (k) => (expected.get(k)?.inUse ?? 0) !== (storedMap.get(k) ?? 0),
    );
    if (wrong.length === 0) return 0;
    logger?.warn({ rows: wrong.length }, 'Usage totals differed from instance usage; rebuilt them');
    await trx.deleteFrom('va_usage').execute();
    for (const row of expected.values()) {
      await trx.insertInto('va_usage').values({ va_id: row.vaId, tag: row.tag, in_use: row.inUse }).execute();
    }
    return wrong.length;
  });
}

/** The totals as they follow from `instance_usage`, keyed by VA and tag. */
export async function computeTotals(
  db: Kysely<Database>,
): Promise<Map<string, { vaId: string; tag: string; inUse: number }>> {
  const rows = await db
    .selectFrom('instance_usage as u')
    .innerJoin('instances as i', 'i.id', 'u.instance_id')
    .select((eb) => ['i.va_id', 'u.tag', eb.fn.sum<number>('u.count').as('in_use')])
    .groupBy(['i.va_id', 'u.tag'])
    .execute();
  return new Map(rows.map((r) => [key(r), { vaId: r.va_id, tag: r.tag, inUse: Number(r.in_use) }] as const));
}

function key(row: { va_id: string; tag: string }): string {
  return `${row.va_id}\u0000${row.tag}`;
}
