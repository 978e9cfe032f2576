import type { Kysely } from 'kysely';
import type { Logger } from '../../logger.js';
import type { Database } from '../../storage/schema.js';
import type { Transactor } from '../../storage/transactor.js';

/**
 * Recomputes the VA usage totals, reported-name counts and silent usage (of the instances
 * counted silent) from the instances' usage and
 * repairs them if they differ (they never should: every change of `instance_usage` moves them
 * in the same transaction; a difference is logged as a warning). Returns how many rows were
 * wrong. A full scan of the usage: an operator's check, not run at start-up (SPEC: a start
 * of a server holding a million instances must not read them all).
 */
export async function reconcileUsageTotals(transactor: Transactor, logger?: Logger): Promise<number> {
  return transactor.run(async (trx) => {
    const wrongTotals = await reconcileTotals(trx);
    const wrongNames = await reconcileNames(trx);
    const wrongSilent = await reconcileSilentUsage(trx);
    const wrong = wrongTotals + wrongNames + wrongSilent;
    if (wrong > 0) logger?.warn({ rows: wrong }, 'Usage totals differed from instance usage; rebuilt them');
    return wrong;
  });
}

async function reconcileTotals(trx: Kysely<Database>): Promise<number> {
  const expected = await computeTotals(trx);
  const stored = await trx.selectFrom('va_usage').select(['va_id', 'tag', 'in_use']).execute();
  const storedMap = new Map(stored.filter((r) => Number(r.in_use) !== 0).map((r) => [key(r), Number(r.in_use)]));
  const wrong = countDifferences(new Map([...expected].map(([k, v]) => [k, v.inUse])), storedMap);
  if (wrong === 0) return 0;
  await trx.deleteFrom('va_usage').execute();
  for (const row of expected.values()) {
    await trx.insertInto('va_usage').values({ va_id: row.vaId, tag: row.tag, in_use: row.inUse }).execute();
  }
  return wrong;
}

async function reconcileNames(trx: Kysely<Database>): Promise<number> {
  const expected = await trx
    .selectFrom('instance_usage as u')
    .innerJoin('instances as i', 'i.id', 'u.instance_id')
    .select((eb) => ['i.va_id', 'u.tag', 'u.display_name', eb.fn.countAll<number>().as('instances')])
    .where('u.display_name', 'is not', null)
    .groupBy(['i.va_id', 'u.tag', 'u.display_name'])
    .execute();
  const stored = await trx.selectFrom('va_reported_names').selectAll().where('instances', '>', 0).execute();
  const nameKey = (r: { va_id: string; tag: string; display_name: string | null }) =>
    `${key(r)}\u0000${r.display_name}`;
  const wrong = countDifferences(
    new Map(expected.map((r) => [nameKey(r), Number(r.instances)])),
    new Map(stored.map((r) => [nameKey(r), Number(r.instances)])),
  );
  if (wrong === 0) return 0;
  await trx.deleteFrom('va_reported_names').execute();
  for (const r of expected) {
    if (r.display_name === null) continue;
    await trx
      .insertInto('va_reported_names')
      .values({ va_id: r.va_id, tag: r.tag, display_name: r.display_name, instances: Number(r.instances) })
      .execute();
  }
  return wrong;
}

function countDifferences(expected: ReadonlyMap<string, number>, stored: ReadonlyMap<string, number>): number {
  return [...new Set([...expected.keys(), ...stored.keys()])].filter(
    (k) => (expected.get(k) ?? 0) !== (stored.get(k) ?? 0),
  ).length;
}

async function reconcileSilentUsage(trx: Kysely<Database>): Promise<number> {
  const expected = await trx
    .selectFrom('instance_usage as u')
    .innerJoin('instances as i', 'i.id', 'u.instance_id')
    .select((eb) => ['i.va_id', 'u.tag', eb.fn.sum<number>('u.count').as('in_use')])
    .where('i.silent_counted', '=', 1)
    .groupBy(['i.va_id', 'u.tag'])
    .execute();
  const stored = await trx.selectFrom('va_silent_usage').select(['va_id', 'tag', 'in_use']).execute();
  const wrong = countDifferences(
    new Map(expected.map((r) => [key(r), Number(r.in_use)])),
    new Map(stored.filter((r) => Number(r.in_use) !== 0).map((r) => [key(r), Number(r.in_use)])),
  );
  if (wrong === 0) return 0;
  await trx.deleteFrom('va_silent_usage').execute();
  for (const r of expected) {
    await trx
      .insertInto('va_silent_usage')
      .values({ va_id: r.va_id, tag: r.tag, in_use: Number(r.in_use) })
      .execute();
  }
  return wrong;
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
