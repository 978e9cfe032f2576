import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir } from '../test-support/temp-dir.js';
import { type OpenSqliteDatabase, openSqliteDatabase } from './database.js';
import { migrateToLatest } from './migrate.js';
import { createTransactor, type Transactor } from './transactor.js';

describe('WAL checkpoints from a worker thread', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let database: OpenSqliteDatabase;
  let transactor: Transactor;
  const file = () => join(dir.path, 'test.db');

  beforeEach(async () => {
    dir = makeTempDir();
    database = openSqliteDatabase(file());
    await migrateToLatest(database.db);
    transactor = createTransactor(database);
  });
  afterEach(async () => {
    await database.close();
    dir.remove();
  });

  const burst = (from: number, count: number) =>
    Promise.all(
      Array.from({ length: count }, (_, i) =>
        transactor.run((trx) =>
          trx
            .insertInto('nonces')
            .values({ nonce: `${from + i}-${'x'.repeat(200)}`, seen_at: 1 })
            .execute(),
        ),
      ),
    );

  it('leaves checkpoints to the worker: none inside COMMIT, the worker copies the whole log', async () => {
    expect(database.sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    await burst(0, 3000);
    await transactor.drain();
    const before = statSync(file()).size;
    const result = await database.walCheckpointer.checkpoint();
    expect(result.log).toBeGreaterThan(0);
    expect(result.checkpointed).toBe(result.log);
    // The database file now holds what was only in the log.
    expect(statSync(file()).size).toBeGreaterThan(before);
    const n = database.sqlite.prepare('select count(*) as n from nonces').get() as { n: number };
    expect(n.n).toBe(3000);
  });

  it('is asked for a checkpoint by the transactor after a synced batch, and never blocks its writes', async () => {
    // Nothing has checkpointed the migrations' pages yet: the database file is (nearly) empty.
    const empty = statSync(file()).size;
    await burst(0, 500);
    await transactor.drain();
    // The first synced batch asked the worker for a checkpoint: the file grows without anyone else's.
    const deadline = Date.now() + 10_000;
    while (statSync(file()).size <= empty && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(statSync(file()).size).toBeGreaterThan(empty);
    // Writes go on while a checkpoint runs.
    const running = database.walCheckpointer.checkpoint();
    await burst(500, 500);
    await running;
    const n = database.sqlite.prepare('select count(*) as n from nonces').get() as { n: number };
    expect(n.n).toBe(1000);
  });

  describe('under sustained writes', () => {
    let busy: OpenSqliteDatabase;
    let writer: Transactor;
    beforeEach(async () => {
      await database.close();
      // Checkpoints often and a small log: what a busy server does each second, in a test's time.
      busy = openSqliteDatabase(file(), { checkpoints: { intervalMs: 10, restartFrames: 50 } });
      database = busy;
      writer = createTransactor(busy);
    });

    /** The WAL header's checkpoint sequence: SQLite adds one each time the log starts over. */
    const logGeneration = (): number => {
      const fd = openSync(`${file()}-wal`, 'r');
      try {
        const header = Buffer.alloc(16);
        readSync(fd, header, 0, 16, 0);
        return header.readUInt32BE(12);
      } finally {
        closeSync(fd);
      }
    };

    /** 40 writers, each waiting for its unit before the next, so that commits never pause by themselves. */
    const sustain = async (units: number, from = 0): Promise<void> => {
      let next = from;
      const end = from + units;
      const one = async (): Promise<void> => {
        while (next < end) {
          const n = next++;
          await writer.run((trx) =>
            trx
              .insertInto('nonces')
              .values({ nonce: `${n}-${'y'.repeat(1000)}`, seen_at: n })
              .execute(),
          );
        }
      };
      await Promise.all(Array.from({ length: 40 }, one));
    };

    it('starts the log over in the same file, so that it does not grow with everything written', async () => {
      expect(busy.sqlite.pragma('journal_size_limit', { simple: true })).toBe(64 * 1024 * 1024);
      await sustain(100);
      const first = logGeneration();
      await sustain(12_000, 100);
      // ~12 MB of rows, at least as much again of index and log overhead: the log restarted many times instead.
      expect(logGeneration()).toBeGreaterThanOrEqual(first + 2);
      // Each time the writer held a batch for it, as GET /metrics counts.
      expect(writer.commitStatistics?.().restarts).toBeGreaterThanOrEqual(1);
      expect(statSync(`${file()}-wal`).size).toBeLessThan(12_000 * 1000);
      const n = busy.sqlite.prepare('select count(*) as n from nonces').get() as { n: number };
      expect(n.n).toBe(12_100);
    });

    it('goes on writing while a reader holds an old snapshot, and starts the log over once it is gone', async () => {
      await sustain(100);
      const reader = new BetterSqlite3(file(), { readonly: true });
      try {
        // An open read transaction pins the log: no checkpoint can copy past its snapshot.
        reader.prepare('begin').run();
        expect((reader.prepare('select count(*) as n from nonces').get() as { n: number }).n).toBe(100);
        const pinned = logGeneration();
        await sustain(3_000, 100);
        expect(logGeneration()).toBe(pinned);
        reader.prepare('commit').run();
        await sustain(6_000, 3_100);
        expect(logGeneration()).toBeGreaterThan(pinned);
      } finally {
        reader.close();
      }
      const n = busy.sqlite.prepare('select count(*) as n from nonces').get() as { n: number };
      expect(n.n).toBe(9_100);
    });
  });
});
