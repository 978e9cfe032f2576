import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir } from '../test-support/temp-dir.js';
import { type OpenSqliteDatabase, openSqliteDatabase } from './database.js';
import { migrateToLatest } from './migrate.js';
import {
  createGroupCommitTransactor,
  createTransactor,
  type Transactor,
  type TransactorOptions,
} from './transactor.js';

describe('transactor (group commit with a savepoint per unit)', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let database: OpenSqliteDatabase;
  let transactor: Transactor;
  const file = () => join(dir.path, 'test.db');

  beforeEach(async () => {
    dir = makeTempDir();
    database = openSqliteDatabase(file());
    await migrateToLatest(database.db);
    transactor = createTransactor(database, { maxBatch: 16 });
  });
  afterEach(async () => {
    await database.close();
    dir.remove();
  });

  const addNonce = (nonce: string) =>
    transactor.run((trx) => trx.insertInto('nonces').values({ nonce, seen_at: 1 }).execute());
  const nonces = async () =>
    (await database.db.selectFrom('nonces').select('nonce').orderBy('nonce').execute()).map((r) => r.nonce);

  /** A group-commit transactor whose WAL syncs complete only when the test releases them, in order. */
  const gatedTransactor = (options: TransactorOptions = {}) => {
    const syncs: Array<() => void> = [];
    const gated = createGroupCommitTransactor(
      {
        ...database,
        walSync: {
          sync: () => new Promise<void>((resolve) => syncs.push(resolve)),
          close: async () => undefined,
          statistics: () => ({ syncs: syncs.length, seconds: 0 }),
        },
      },
      options,
    );
    return { gated, syncs };
  };

  it('commits every unit of a burst, in batches, durably before resolving', async () => {
    const names = Array.from({ length: 100 }, (_, i) => `n${String(i).padStart(3, '0')}`);
    await Promise.all(names.map(addNonce));
    // Another connection sees everything once the promises resolved.
    const other = new BetterSqlite3(file(), { readonly: true });
    try {
      expect((other.prepare('select count(*) as n from nonces').get() as { n: number }).n).toBe(100);
    } finally {
      other.close();
    }
    expect(await nonces()).toEqual(names);
    // What GET /metrics shows of it: 100 units in fewer batches, each batch's sync run or shared.
    const counted = transactor.commitStatistics?.();
    expect(counted?.units).toBe(100);
    expect(counted?.batches).toBeGreaterThanOrEqual(100 / 16);
    expect(counted?.batches).toBeLessThan(100);
    expect(counted?.syncs).toBeGreaterThanOrEqual(1);
    expect(counted?.syncs).toBeLessThanOrEqual(counted?.batches ?? 0);
    expect(counted?.syncSeconds).toBeGreaterThan(0);
  });

  it('acknowledges a committed unit only once its WAL sync has completed, and gathers the next batch meanwhile', async () => {
    const { gated, syncs } = gatedTransactor();
    const committed = () => {
      const other = new BetterSqlite3(file(), { readonly: true });
      try {
        return other.prepare('select nonce from nonces order by nonce').all();
      } finally {
        other.close();
      }
    };
    let acknowledged = false;
    const first = gated.run((trx) => trx.insertInto('nonces').values({ nonce: 'a', seen_at: 1 }).execute());
    void first.then(() => {
      acknowledged = true;
    });
    while (syncs.length === 0) await new Promise((resolve) => setImmediate(resolve));
    // Committed (another connection sees it), not yet acknowledged: its sync has not completed.
    expect(committed()).toEqual([{ nonce: 'a' }]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(acknowledged).toBe(false);
    // Work that arrives while the sync runs waits for the next batch, all of it in one commit…
    const next = ['b', 'c'].map((nonce) =>
      gated.run((trx) => trx.insertInto('nonces').values({ nonce, seen_at: 1 }).execute()),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(committed()).toEqual([{ nonce: 'a' }]);
    expect(syncs).toHaveLength(1);
    let drained = false;
    void gated.drain().then(() => {
      drained = true;
    });
    // …which follows the first sync, and is acknowledged by its own; drain waits for both.
    syncs[0]!();
    await first;
    while (syncs.length < 2) await new Promise((resolve) => setImmediate(resolve));
    expect(committed()).toEqual([{ nonce: 'a' }, { nonce: 'b' }, { nonce: 'c' }]);
    expect(drained).toBe(false);
    syncs[1]!();
    await Promise.all(next);
    await gated.drain();
    expect(syncs).toHaveLength(2);
    expect(await nonces()).toEqual(['a', 'b', 'c']);
  });

  it('starts a full batch while a sync runs, so that a slow disk does not cap the rate', async () => {
    const { gated, syncs } = gatedTransactor({ maxBatch: 2 });
    const add = (nonce: string) => gated.run((trx) => trx.insertInto('nonces').values({ nonce, seen_at: 1 }).execute());
    const first = add('a');
    while (syncs.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const second = add('b');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await nonces()).toEqual(['a']);
    // A second unit fills a batch: it runs without waiting for the first sync.
    const third = add('c');
    while (syncs.length < 2) await new Promise((resolve) => setImmediate(resolve));
    expect(await nonces()).toEqual(['a', 'b', 'c']);
    for (const release of syncs) release();
    await Promise.all([first, second, third]);
    await gated.drain();
  });

  it('fails the units of a batch whose WAL sync fails, and acknowledges a failed unit without waiting for it', async () => {
    const failing = createGroupCommitTransactor({
      ...database,
      walSync: {
        sync: () => Promise.reject(new Error('EIO: fdatasync')),
        close: async () => undefined,
        statistics: () => ({ syncs: 0, seconds: 0 }),
      },
    });
    const results = await Promise.allSettled([
      failing.run((trx) => trx.insertInto('nonces').values({ nonce: 'x', seen_at: 1 }).execute()),
      failing.run(async () => {
        throw new Error('refused');
      }),
    ]);
    expect(results.map((r) => (r as PromiseRejectedResult).reason?.message)).toEqual(['EIO: fdatasync', 'refused']);
  });

  it('syncs the real WAL file, for one caller and for several at once', async () => {
    await addNonce('a');
    await database.walSync.sync();
    await expect(
      Promise.all([database.walSync.sync(), database.walSync.sync(), database.walSync.sync()]),
    ).resolves.toEqual([undefined, undefined, undefined]);
  });

  it.each([
    ['units that may write without bound', {}],
    ['small units (undo pages in memory)', { small: true }],
  ])('rolls back only the unit that failed, and rejects it with its own error: %s', async (_, options) => {
    const add = (nonce: string) =>
      transactor.run((trx) => trx.insertInto('nonces').values({ nonce, seen_at: 1 }).execute(), options);
    const results = await Promise.allSettled([
      add('a'),
      transactor.run(async (trx) => {
        await trx.insertInto('nonces').values({ nonce: 'b', seen_at: 1 }).execute();
        throw new Error('refused');
      }, options),
      add('c'),
      add('a'), // primary key violation: only this unit fails
      add('d'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toEqual(new Error('refused'));
    expect(await nonces()).toEqual(['a', 'c', 'd']);
  });

  it('keeps undo pages in memory only for a batch of small units', async () => {
    const tempStore = (options: { small?: boolean }) =>
      transactor.run(
        async (trx) => (await sql<{ temp_store: number }>`pragma temp_store`.execute(trx)).rows[0]?.temp_store,
        options,
      );
    // SQLite: 2 is memory, 0 the build's default (a file).
    expect(await tempStore({ small: true })).toBe(2);
    expect(await tempStore({})).toBe(0);
    // One unit that may write without bound puts its whole batch on the default.
    expect(await Promise.all([tempStore({ small: true }), tempStore({}), tempStore({ small: true })])).toEqual([
      0, 0, 0,
    ]);
    expect(await Promise.all([tempStore({ small: true }), tempStore({ small: true })])).toEqual([2, 2]);
    // Between batches the connection is on the default: a query outside the transactor (a
    // report's large sort) never keeps its temporary data in memory.
    expect(database.sqlite.pragma('temp_store', { simple: true })).toBe(0);
  });

  it('returns what the unit returns', async () => {
    await expect(transactor.run(async () => 42)).resolves.toBe(42);
  });

  it('fails the whole batch, committing nothing, when the transaction itself breaks', async () => {
    const results = await Promise.allSettled([
      addNonce('x'),
      transactor.run(async (trx) => {
        await sql`rollback`.execute(trx); // ends the transaction under the transactor's feet
      }),
      addNonce('y'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(await nonces()).toEqual([]);
    // And it recovers for the next work.
    await addNonce('z');
    expect(await nonces()).toEqual(['z']);
  });

  it('refuses work beyond its queue limit with SERVER_BUSY', async () => {
    const small = createTransactor(database, { maxQueue: 2 });
    const results = await Promise.allSettled([1, 2, 3].map((i) => small.run(async () => i)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({ code: 'SERVER_BUSY', status: 503 });
  });

  it('drain resolves once queued work is done', async () => {
    const pending = addNonce('q');
    await transactor.drain();
    await pending;
    expect(await nonces()).toEqual(['q']);
    await transactor.drain();
  });
});
