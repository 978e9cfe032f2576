import { afterAll, beforeAll, expect, it } from 'vitest';
import type { OpenDatabase } from '../../storage/database.js';
import { createTransactor, type Transactor } from '../../storage/transactor.js';
import { describeEachEngine } from '../../test-support/postgres.js';
import { insertAccountWithVas, instanceRow } from '../../test-support/store-rows.js';
import { openTestDatabase } from '../../test-support/test-database.js';
import { countSilent, readSilentUsage } from './silent-usage-store.js';
import { reconcileUsageTotals } from './usage-reconcile.js';
import {
  readInstanceUsage,
  readReportedNames,
  readUsageTotals,
  releaseInstanceUsage,
  replaceInstanceUsage,
  type UsageEntry,
} from './usage-store.js';

describeEachEngine('usage store', (engine) => {
  let handle: Awaited<ReturnType<typeof openTestDatabase>>;
  let database: OpenDatabase;
  let transactor: Transactor;
  const owner = (instanceId: string) => ({ instanceId, vaId: 'va' });
  const use = (tag: string, count: number, displayName: string | null = null): UsageEntry => ({
    tag,
    count,
    displayName,
  });

  beforeAll(async () => {
    handle = await openTestDatabase(engine);
    database = handle.database;
    transactor = createTransactor(database);
    const { db } = database;
    await insertAccountWithVas(db, ['va']);
    for (const id of ['i1', 'i2']) await db.insertInto('instances').values(instanceRow(id, 'va')).execute();
  });
  afterAll(async () => {
    await handle?.dispose();
  });

  const replace = (id: string, next: UsageEntry[]) =>
    transactor.run(async (trx) => replaceInstanceUsage(trx, owner(id), await readInstanceUsage(trx, id), next));

  it('keeps VA totals in step with each change, and reports whether anything changed', async () => {
    expect(await replace('i1', [use('A', 3), use('B', 1)])).toBe(true);
    expect(await replace('i2', [use('A', 2), use('Z', 0)])).toBe(true);
    expect(await readUsageTotals(database.db, 'va')).toEqual(
      new Map([
        ['A', 5],
        ['B', 1],
      ]),
    );

    expect(await replace('i1', [use('A', 3), use('B', 1)])).toBe(false); // unchanged: nothing written
    expect(await replace('i1', [use('A', 3, 'Feature A'), use('B', 1)])).toBe(true); // a new name is a change
    expect(await readUsageTotals(database.db, 'va')).toEqual(
      new Map([
        ['A', 5],
        ['B', 1],
      ]),
    );

    expect(await replace('i1', [use('A', 1)])).toBe(true);
    expect(await readUsageTotals(database.db, 'va', ['A', 'B'])).toEqual(new Map([['A', 3]]));
    expect(await readInstanceUsage(database.db, 'i1')).toEqual([use('A', 1)]);

    await transactor.run((trx) => releaseInstanceUsage(trx, owner('i2')));
    expect(await readUsageTotals(database.db, 'va')).toEqual(new Map([['A', 1]]));
    expect(await reconcileUsageTotals(transactor)).toEqual({ vas: 1, corrected: 0 });
  });

  it('repairs totals that drifted', async () => {
    await database.db.updateTable('va_usage').set({ in_use: 99 }).where('tag', '=', 'A').execute();
    await database.db.insertInto('va_usage').values({ va_id: 'va', tag: 'ghost', in_use: 4 }).execute();
    expect(await reconcileUsageTotals(transactor)).toEqual({ vas: 1, corrected: 2 });
    expect(await readUsageTotals(database.db, 'va')).toEqual(new Map([['A', 1]]));
  });

  it('keeps the names instances report per VA, so that naming a tag reads no usage rows', async () => {
    await replace('i1', [use('N', 1, 'Beta name')]);
    await replace('i2', [use('N', 2, 'Alpha name')]);
    expect((await readReportedNames(database.db, 'va')).get('N')).toBe('Beta name'); // the greatest, as before
    await replace('i1', [use('N', 1, 'Alpha name')]); // renamed: Beta has no instance left
    expect((await readReportedNames(database.db, 'va')).get('N')).toBe('Alpha name');
    const counts = () =>
      database.db
        .selectFrom('va_reported_names')
        .select(['display_name', 'instances'])
        .where('tag', '=', 'N')
        .execute();
    expect(await counts()).toEqual([{ display_name: 'Alpha name', instances: 2 }]);
    await replace('i2', [use('N', 2)]); // still in use, no longer named by i2
    expect(await counts()).toEqual([{ display_name: 'Alpha name', instances: 1 }]);
    await transactor.run((trx) => releaseInstanceUsage(trx, owner('i1')));
    expect(await counts()).toEqual([]);
    expect((await readReportedNames(database.db, 'va')).has('N')).toBe(false);
    expect(await reconcileUsageTotals(transactor)).toEqual({ vas: 1, corrected: 0 });
  });

  it('repairs reported-name counts that drifted', async () => {
    await replace('i1', [use('M', 1, 'Named')]);
    await database.db.updateTable('va_reported_names').set({ instances: 5 }).where('tag', '=', 'M').execute();
    await database.db
      .insertInto('va_reported_names')
      .values({ va_id: 'va', tag: 'ghost', display_name: 'Ghost', instances: 1 })
      .execute();
    expect(await reconcileUsageTotals(transactor)).toEqual({ vas: 1, corrected: 2 });
    expect(await readReportedNames(database.db, 'va')).toEqual(new Map([['M', 'Named']]));
  });

  it('checks and repairs the silent usage of the instances counted silent', async () => {
    await replace('i1', [use('S', 2)]);
    await replace('i2', [use('S', 3)]);
    expect(await transactor.run((trx) => countSilent(trx, 'i1', Number.MAX_SAFE_INTEGER))).toBe(true);
    expect(await transactor.run((trx) => countSilent(trx, 'i1', Number.MAX_SAFE_INTEGER))).toBe(false);
    expect(await reconcileUsageTotals(transactor)).toEqual({ vas: 1, corrected: 0 });
    await database.db.updateTable('va_silent_usage').set({ in_use: 7 }).where('tag', '=', 'S').execute();
    await database.db.insertInto('va_silent_usage').values({ va_id: 'va', tag: 'ghost', in_use: 1 }).execute();
    expect(await reconcileUsageTotals(transactor)).toEqual({ vas: 1, corrected: 2 });
    expect(await readSilentUsage(database.db, 'va', -1)).toEqual(new Map([['S', 2]]));
    // Releasing a counted instance's usage takes it out of the count.
    await transactor.run((trx) => releaseInstanceUsage(trx, owner('i1')));
    expect(await readSilentUsage(database.db, 'va', -1)).toEqual(new Map());
    expect(await reconcileUsageTotals(transactor)).toEqual({ vas: 1, corrected: 0 });
  });
});
