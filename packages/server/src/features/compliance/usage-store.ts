import { type Kysely, sql } from 'kysely';
import { engineOf } from '../../storage/database.js';
import { runStatement, tuples } from '../../storage/raw-statements.js';
import type { Database } from '../../storage/schema.js';
import { uncountSilent } from './silent-usage-store.js';

/** One tag an instance reports in use. */
export interface UsageEntry {
  tag: string;
  count: number;
  displayName: string | null;
}

// The statements of the device hot path (authorize) are plain SQL through Kysely's `sql`
// tag: portable to PostgreSQL, and a fraction of the query builder's cost per statement.

/** What an instance reports in use; counts of zero are never stored. */
export async function readInstanceUsage(db: Kysely<Database>, instanceId: string): Promise<UsageEntry[]> {
  const { rows } = await sql<{ tag: string; count: number; display_name: string | null }>`
    select tag, count, display_name from instance_usage where instance_id = ${instanceId}`.execute(db);
  return rows.map((r) => ({ tag: r.tag, count: Number(r.count), displayName: r.display_name }));
}

/**
 * Makes `next` the instance's usage, writing only rows that change and moving the VA's
 * running totals by the difference. Returns whether anything changed. Call in a transaction
 * with `current` read in that same transaction.
 */
export async function replaceInstanceUsage(
  trx: Kysely<Database>,
  owner: { instanceId: string; vaId: string },
  current: readonly UsageEntry[],
  next: readonly UsageEntry[],
): Promise<boolean> {
  const before = new Map(current.map((u) => [u.tag, u]));
  const after = new Map(next.filter((u) => u.count > 0).map((u) => [u.tag, u]));
  const deltas = new Map<string, number>();
  for (const [tag, old] of before) {
    if (after.has(tag)) continue;
    await sql`delete from instance_usage where instance_id = ${owner.instanceId} and tag = ${tag}`.execute(trx);
    deltas.set(tag, -old.count);
  }
  let changed = deltas.size > 0;
  for (const [tag, entry] of after) {
    const old = before.get(tag);
    if (old && old.count === entry.count && old.displayName === entry.displayName) continue;
    changed = true;
    await sql`
      insert into instance_usage (instance_id, tag, count, display_name)
      values (${owner.instanceId}, ${tag}, ${entry.count}, ${entry.displayName})
      on conflict (instance_id, tag) do update set count = excluded.count, display_name = excluded.display_name`.execute(
      trx,
    );
    const delta = entry.count - (old?.count ?? 0);
    if (delta !== 0) deltas.set(tag, delta);
  }
  await addToTotals(trx, owner.vaId, deltas);
  await addToReportedNames(trx, owner.vaId, nameDeltas(before, after));
  return changed;
}

/** One instance's usage change for {@link replaceManyInstanceUsage}. */
export interface UsageReplacement {
  instanceId: string;
  vaId: string;
  current: readonly UsageEntry[];
  next: readonly UsageEntry[];
}

/**
 * {@link replaceInstanceUsage} for many instances at once (a satellite's sync brings thousands):
 * the same rows written, unchanged rows left alone, but changed rows in multi-row statements and
 * each VA's totals and reported names moved once by the summed differences. Call in a transaction
 * with every `current` read in that same transaction. Returns how many instances changed.
 */
export async function replaceManyInstanceUsage(
  trx: Kysely<Database>,
  items: readonly UsageReplacement[],
): Promise<number> {
  const deletes: Array<{ instanceId: string; tag: string }> = [];
  // Rows not there before (read in this transaction) take a plain insert; changed ones an upsert.
  const inserts: Array<{ instanceId: string; tag: string; count: number; displayName: string | null }> = [];
  const upserts: Array<{ instanceId: string; tag: string; count: number; displayName: string | null }> = [];
  const totals = new Map<string, Map<string, number>>();
  const names = new Map<string, Map<string, { tag: string; name: string; delta: number }>>();
  let changedInstances = 0;
  for (const item of items) {
    const before = new Map(item.current.map((u) => [u.tag, u]));
    const after = new Map(item.next.filter((u) => u.count > 0).map((u) => [u.tag, u]));
    let changed = false;
    const vaTotals = totals.get(item.vaId) ?? new Map<string, number>();
    totals.set(item.vaId, vaTotals);
    for (const [tag, old] of before) {
      if (after.has(tag)) continue;
      changed = true;
      deletes.push({ instanceId: item.instanceId, tag });
      vaTotals.set(tag, (vaTotals.get(tag) ?? 0) - old.count);
    }
    for (const [tag, entry] of after) {
      const old = before.get(tag);
      if (old && old.count === entry.count && old.displayName === entry.displayName) continue;
      changed = true;
      (old ? upserts : inserts).push({
        instanceId: item.instanceId,
        tag,
        count: entry.count,
        displayName: entry.displayName,
      });
      const delta = entry.count - (old?.count ?? 0);
      if (delta !== 0) vaTotals.set(tag, (vaTotals.get(tag) ?? 0) + delta);
    }
    if (!changed) continue;
    changedInstances++;
    const vaNames = names.get(item.vaId) ?? new Map<string, { tag: string; name: string; delta: number }>();
    names.set(item.vaId, vaNames);
    for (const d of nameDeltas(before, after)) {
      const key = JSON.stringify([d.tag, d.name]);
      const sum = vaNames.get(key) ?? { tag: d.tag, name: d.name, delta: 0 };
      sum.delta += d.delta;
      vaNames.set(key, sum);
    }
  }
  for (const d of deletes) {
    await sql`delete from instance_usage where instance_id = ${d.instanceId} and tag = ${d.tag}`.execute(trx);
  }
  for (const [list, conflict] of [
    [inserts, ''],
    [
      upserts,
      'on conflict (instance_id, tag) do update set count = excluded.count, display_name = excluded.display_name',
    ],
  ] as const) {
    for (let i = 0; i < list.length; i += ROWS_PER_STATEMENT) {
      const rows = list.slice(i, i + ROWS_PER_STATEMENT);
      await runStatement(
        trx,
        `insert into instance_usage (instance_id, tag, count, display_name) values ${tuples(rows.length, 4)} ${conflict}`,
        rows.flatMap((u) => [u.instanceId, u.tag, u.count, u.displayName]),
      );
    }
  }
  // VAs in one order, as the rows within each (see addToTotals).
  for (const vaId of [...totals.keys()].sort(compare))
    await addToTotals(trx, vaId, totals.get(vaId) as Map<string, number>);
  for (const vaId of [...names.keys()].sort(compare)) {
    await addToReportedNames(
      trx,
      vaId,
      [...(names.get(vaId)?.values() ?? [])].filter((d) => d.delta !== 0),
    );
  }
  return changedInstances;
}

/** Rows per multi-row statement: within SQLite's and PostgreSQL's bound-parameter limits. */
const ROWS_PER_STATEMENT = 500;

/** Removes all usage of an instance and gives it back to its VA's totals (and takes it out of the silent count). */
export async function releaseInstanceUsage(
  trx: Kysely<Database>,
  owner: { instanceId: string; vaId: string },
): Promise<void> {
  await uncountSilent(trx, owner.instanceId);
  const current = await readInstanceUsage(trx, owner.instanceId);
  await trx.deleteFrom('instance_usage').where('instance_id', '=', owner.instanceId).execute();
  await addToTotals(trx, owner.vaId, new Map(current.map((u) => [u.tag, -u.count])));
  await addToReportedNames(trx, owner.vaId, nameDeltas(new Map(current.map((u) => [u.tag, u])), new Map()));
}

/** +1/−1 per (tag, display name) an instance starts or stops reporting. */
function nameDeltas(
  before: ReadonlyMap<string, UsageEntry>,
  after: ReadonlyMap<string, UsageEntry>,
): Array<{ tag: string; name: string; delta: 1 | -1 }> {
  const deltas: Array<{ tag: string; name: string; delta: 1 | -1 }> = [];
  for (const [tag, old] of before) {
    const name = after.get(tag)?.displayName ?? null;
    if (old.displayName !== null && old.displayName !== name) deltas.push({ tag, name: old.displayName, delta: -1 });
  }
  for (const [tag, entry] of after) {
    const name = before.get(tag)?.displayName ?? null;
    if (entry.displayName !== null && entry.displayName !== name)
      deltas.push({ tag, name: entry.displayName, delta: 1 });
  }
  return deltas;
}

async function addToReportedNames(
  trx: Kysely<Database>,
  vaId: string,
  deltas: ReadonlyArray<{ tag: string; name: string; delta: number }>,
): Promise<void> {
  // Rows in one order in every unit, so that two units never wait on each other's rows (deadlock).
  const ordered = [...deltas].sort((a, b) => compare(a.tag, b.tag) || compare(a.name, b.name) || a.delta - b.delta);
  for (const { tag, name, delta } of ordered) {
    await sql`
      insert into va_reported_names (va_id, tag, display_name, instances) values (${vaId}, ${tag}, ${name}, ${delta})
      on conflict (va_id, tag, display_name) do update set instances = va_reported_names.instances + excluded.instances`.execute(
      trx,
    );
    if (delta < 0) {
      await sql`delete from va_reported_names
        where va_id = ${vaId} and tag = ${tag} and display_name = ${name} and instances <= 0`.execute(trx);
    }
  }
}

async function addToTotals(trx: Kysely<Database>, vaId: string, deltas: ReadonlyMap<string, number>): Promise<void> {
  const changes = [...deltas].filter(([, delta]) => delta !== 0).sort(([a], [b]) => compare(a, b));
  if (changes.length === 0) return;
  await lockVaUsage(trx, vaId);
  for (const [tag, delta] of changes) {
    await sql`
      insert into va_usage (va_id, tag, in_use) values (${vaId}, ${tag}, ${delta})
      on conflict (va_id, tag) do update set in_use = va_usage.in_use + excluded.in_use`.execute(trx);
  }
}

/** An advisory-lock namespace of its own (`smlu`), apart from the job and start-up locks' one-key space. */
const VA_USAGE_LOCK_SPACE = 0x736d6c75;

/**
 * PostgreSQL: holds the VA's usage lock until the transaction ends, so that units changing a
 * VA's totals run one after another (ADR 0009). A renewal at READ COMMITTED then judges
 * compliance on balances that include every earlier change of its VA, as if the changes ran
 * serially, also across sibling tags of a hierarchy, whose rows it does not write. Renewals that
 * change nothing take no lock. SQLite has one writer and needs none.
 */
async function lockVaUsage(trx: Kysely<Database>, vaId: string): Promise<void> {
  if (engineOf(trx) !== 'postgres') return;
  await sql`select pg_advisory_xact_lock(${VA_USAGE_LOCK_SPACE}, hashtext(${vaId}))`.execute(trx);
}

/** Code-unit order of two strings: the same in every process, whatever the locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Total in use per tag of a VA (only tags some instance uses), optionally for `tags` only. */
export async function readUsageTotals(
  db: Kysely<Database>,
  vaId: string,
  tags?: readonly string[],
): Promise<Map<string, number>> {
  if (tags && tags.length === 0) return new Map();
  let query = db.selectFrom('va_usage').select(['tag', 'in_use']).where('va_id', '=', vaId).where('in_use', '!=', 0);
  if (tags) query = query.where('tag', 'in', tags);
  const rows = await query.execute();
  return new Map(rows.map((r) => [r.tag, Number(r.in_use)]));
}

/**
 * A display name per tag, as the VA's instances report them (for tags that have no pool to
 * name them): the greatest name some instance reports. Reads the maintained counts of
 * `va_reported_names`, never the instances' usage.
 */
export async function readReportedNames(db: Kysely<Database>, vaId: string): Promise<Map<string, string>> {
  const rows = await db
    .selectFrom('va_reported_names')
    .select((eb) => ['tag', eb.fn.max('display_name').as('display_name')])
    .where('va_id', '=', vaId)
    .where('instances', '>', 0)
    .groupBy('tag')
    .execute();
  return new Map(rows.map((r) => [r.tag, r.display_name] as const));
}
