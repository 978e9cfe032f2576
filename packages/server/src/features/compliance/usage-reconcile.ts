import type { Kysely } from 'kysely';
import { notFoundOrNotAllowed } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { Database } from '../../storage/schema.js';
import type { Transactor } from '../../storage/transactor.js';
import { type Actor, recordEvent } from '../events/event-recorder.js';

/** What {@link reconcileUsageTotals} checked and repaired. */
export interface ReconcileResult {
  /** Virtual Accounts checked (1 with `vaId`). */
  vas: number;
  /** Rows of `va_usage` and `va_reported_names` that differed from the instances' usage and were repaired. */
  corrected: number;
}

/** Whose totals to check, and who asks (recorded in the event log when given). */
export interface ReconcileOptions {
  /** Only this Virtual Account; default every one. */
  vaId?: string;
  logger?: Logger;
  /** Records `usage.reconciled` (the VA's log with `vaId`, else the system log) at `at` by `actor`. */
  record?: { at: number; actor: Actor };
}

/**
 * Recomputes the VA usage totals, reported-name counts and silent usage (of the instances
 * counted silent) from the instances' usage and
 * repairs the rows that differ (they never should: every change of `instance_usage` moves
 * them in the same transaction; a difference is logged as a warning). A full scan of the usage
 * (of one VA with `vaId`): an operator's on-demand check and repair (`smartlic admin usage
 * reconcile`), not run at start-up (SPEC: a start of a server holding a million instances
 * must not read them all). One transaction.
 */
export async function reconcileUsageTotals(
  transactor: Transactor,
  options: ReconcileOptions = {},
): Promise<ReconcileResult> {
  const { vaId, logger, record } = options;
  return transactor.run(async (trx) => {
    const accountId = vaId === undefined ? null : await accountOfVa(trx, vaId);
    const corrected =
      (await reconcileTotals(trx, vaId)) + (await reconcileNames(trx, vaId)) + (await reconcileSilentUsage(trx, vaId));
    const vas = vaId === undefined ? await countVas(trx) : 1;
    if (corrected > 0)
      logger?.warn({ rows: corrected, vaId }, 'Usage totals differed from instance usage; repaired them');
    if (record) {
      await recordEvent(trx, {
        at: record.at,
        actor: record.actor,
        type: 'usage.reconciled',
        accountId,
        vaId: vaId ?? null,
        detail: { vas, corrected },
      });
    }
    return { vas, corrected };
  });
}

async function accountOfVa(trx: Kysely<Database>, vaId: string): Promise<string> {
  const row = await trx.selectFrom('virtual_accounts').select('account_id').where('id', '=', vaId).executeTakeFirst();
  if (!row) throw notFoundOrNotAllowed('Virtual account', vaId);
  return row.account_id;
}

async function countVas(trx: Kysely<Database>): Promise<number> {
  const row = await trx
    .selectFrom('virtual_accounts')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function reconcileTotals(trx: Kysely<Database>, vaId: string | undefined): Promise<number> {
  const expected = new Map([...(await computeTotals(trx, vaId))].map(([k, v]) => [k, v.inUse]));
  let query = trx.selectFrom('va_usage').select(['va_id', 'tag', 'in_use']);
  if (vaId !== undefined) query = query.where('va_id', '=', vaId);
  const stored = new Map((await query.execute()).map((r) => [key(r), Number(r.in_use)]));
  const wrong = differingKeys(expected, stored);
  for (const k of wrong) {
    const [va, tag] = k.split('\u0000') as [string, string];
    await trx.deleteFrom('va_usage').where('va_id', '=', va).where('tag', '=', tag).execute();
    const inUse = expected.get(k) ?? 0;
    if (inUse !== 0) await trx.insertInto('va_usage').values({ va_id: va, tag, in_use: inUse }).execute();
  }
  return wrong.length;
}

async function reconcileNames(trx: Kysely<Database>, vaId: string | undefined): Promise<number> {
  let expectedQuery = trx
    .selectFrom('instance_usage as u')
    .innerJoin('instances as i', 'i.id', 'u.instance_id')
    .select((eb) => ['i.va_id', 'u.tag', 'u.display_name', eb.fn.countAll<number>().as('instances')])
    .where('u.display_name', 'is not', null)
    .groupBy(['i.va_id', 'u.tag', 'u.display_name']);
  if (vaId !== undefined) expectedQuery = expectedQuery.where('i.va_id', '=', vaId);
  let storedQuery = trx.selectFrom('va_reported_names').select(['va_id', 'tag', 'display_name', 'instances']);
  if (vaId !== undefined) storedQuery = storedQuery.where('va_id', '=', vaId);
  const nameKey = (r: { va_id: string; tag: string; display_name: string | null }) =>
    `${key(r)}\u0000${r.display_name ?? ''}`;
  const expected = new Map((await expectedQuery.execute()).map((r) => [nameKey(r), Number(r.instances)]));
  const stored = new Map((await storedQuery.execute()).map((r) => [nameKey(r), Number(r.instances)]));
  const wrong = differingKeys(expected, stored);
  for (const k of wrong) {
    const [va, tag, displayName] = k.split('\u0000') as [string, string, string];
    await trx
      .deleteFrom('va_reported_names')
      .where('va_id', '=', va)
      .where('tag', '=', tag)
      .where('display_name', '=', displayName)
      .execute();
    const instances = expected.get(k) ?? 0;
    if (instances !== 0) {
      await trx
        .insertInto('va_reported_names')
        .values({ va_id: va, tag, display_name: displayName, instances })
        .execute();
    }
  }
  return wrong.length;
}

/** Keys whose values differ (a missing key counts as 0), in a stable order. */
function differingKeys(expected: ReadonlyMap<string, number>, stored: ReadonlyMap<string, number>): string[] {
  return [...new Set([...expected.keys(), ...stored.keys()])]
    .filter((k) => (expected.get(k) ?? 0) !== (stored.get(k) ?? 0))
    .sort();
}

/** Rebuilds `va_silent_usage` (of one VA with `vaId`) from the usage of the instances counted silent, if it differs. */
async function reconcileSilentUsage(trx: Kysely<Database>, vaId: string | undefined): Promise<number> {
  const expected = await trx
    .selectFrom('instance_usage as u')
    .innerJoin('instances as i', 'i.id', 'u.instance_id')
    .select((eb) => ['i.va_id', 'u.tag', eb.fn.sum<number>('u.count').as('in_use')])
    .where('i.silent_counted', '=', 1)
    .$if(vaId !== undefined, (q) => q.where('i.va_id', '=', vaId as string))
    .groupBy(['i.va_id', 'u.tag'])
    .execute();
  const stored = await trx
    .selectFrom('va_silent_usage')
    .select(['va_id', 'tag', 'in_use'])
    .$if(vaId !== undefined, (q) => q.where('va_id', '=', vaId as string))
    .execute();
  const wrong = differingKeys(
    new Map(expected.map((r) => [key(r), Number(r.in_use)])),
    new Map(stored.filter((r) => Number(r.in_use) !== 0).map((r) => [key(r), Number(r.in_use)])),
  ).length;
  if (wrong === 0) return 0;
  await trx
    .deleteFrom('va_silent_usage')
    .$if(vaId !== undefined, (q) => q.where('va_id', '=', vaId as string))
    .execute();
  for (const r of expected) {
    await trx
      .insertInto('va_silent_usage')
      .values({ va_id: r.va_id, tag: r.tag, in_use: Number(r.in_use) })
      .execute();
  }
  return wrong;
}

/** The totals as they follow from `instance_usage`, keyed by VA and tag (of one VA with `vaId`). */
export async function computeTotals(
  db: Kysely<Database>,
  vaId?: string,
): Promise<Map<string, { vaId: string; tag: string; inUse: number }>> {
  let query = db
    .selectFrom('instance_usage as u')
    .innerJoin('instances as i', 'i.id', 'u.instance_id')
    .select((eb) => ['i.va_id', 'u.tag', eb.fn.sum<number>('u.count').as('in_use')])
    .groupBy(['i.va_id', 'u.tag']);
  if (vaId !== undefined) query = query.where('i.va_id', '=', vaId);
  const rows = await query.execute();
  return new Map(rows.map((r) => [key(r), { vaId: r.va_id, tag: r.tag, inUse: Number(r.in_use) }] as const));
}

function key(row: { va_id: string; tag: string }): string {
  return `${row.va_id}\u0000${row.tag}`;
}
