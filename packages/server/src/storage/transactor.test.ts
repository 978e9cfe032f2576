import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir } from '../test-support/temp-dir.js';
import { type OpenSqliteDatabase, openSqliteDatabase } from './database.js';
import { migrateToLatest } from './migrate.js';
import { createGroupCommitTransactor, createTransactor, type Transactor } from './transactor.js';

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
  });

  it('acknowledges a committed unit only once its WAL sync has completed, and goes on meanwhile', async () => {
    const syncs: Array<() => void> = [];
    const gated = createGroupCommitTransactor({
      ...database,
      walSync: { sync: () => new Promise<void>((resolve) => syncs.push(resolve)), close: async () => undefined },
    });
    let acknowledged = false;
    const first = gated.run((trx) => trx.insertInto('nonces').values({ nonce: 'a', seen_at: 1 }).execute());
    void first.then(() => {
      acknowledged = true;
    });
    while (syncs.length === 0) await new Promise((resolve) => setImmediate(resolve));
    // Committed (another connection sees it), not yet acknowledged: its sync has not completed.
    const other = new BetterSqlite3(file(), { readonly: true });
    try {
      expect(other.prepare('select nonce from nonces').all()).toEqual([{ nonce: 'a' }]);
    } finally {
      other.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(acknowledged).toBe(false);
    // The next batch commits while the first sync is still running…
    const second = gated.run((trx) => trx.insertInto('nonces').values({ nonce: 'b', seen_at: 1 }).execute());
    while (syncs.length < 2) await new Promise((resolve) => setImmediate(resolve));
    let drained = false;
    void gated.drain().then(() => {
      drained = true;
    });
    // …and each is acknowledged by its own sync; drain waits for both.
    syncs[0]!();
    await first;
    expect(drained).toBe(false);
    syncs[1]!();
    await second;
    await gated.drain();
    expect(await nonces()).toEqual(['a', 'b']);
  });

  it('fails the units of a batch whose WAL sync fails, and acknowledges a failed unit without waiting for it', async () => {
    const failing = createGroupCommitTransactor({
      ...database,
      walSync: { sync: () => Promise.reject(new Error('EIO: fdatasync')), close: async () => undefined },
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

  it('rolls back only the unit that failed, and rejects it with its own error', async () => {
    const results = await Promise.allSettled([
      addNonce('a'),
      transactor.run(async (trx) => {
        await trx.insertInto('nonces').values({ nonce: 'b', seen_at: 1 }).execute();
        throw new Error('refused');
      }),
      addNonce('c'),
      addNonce('a'), // primary key violation: only this unit fails
      addNonce('d'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toEqual(new Error('refused'));
    expect(await nonces()).toEqual(['a', 'c', 'd']);
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
