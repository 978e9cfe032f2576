import { statSync } from 'node:fs';
import { join } from 'node:path';
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
});
