import { HOUR } from '@smartlic/protocol';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { OpenDatabase } from '../storage/database.js';
import { openPostgresDatabase } from '../storage/postgres.js';
import { createTestDatabase, postgresUrl, type TestDatabase } from '../test-support/postgres.js';
import { createInProcessJobLock, createJobLock, lockKey } from './job-lock.js';
import { createJobRunner } from './job-runner.js';

/** A promise to hold a job body open until the test lets it go. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

describe('the in-process job lock (SQLite)', () => {
  it('skips a second run of a job while the first holds it, and lets other jobs run', async () => {
    const lock = createInProcessJobLock();
    const held = gate();
    const first = lock.withLock('lifecycle', () => held.opened.then(() => 'done'));
    expect(await lock.withLock('lifecycle', async () => 'second')).toEqual({ ran: false });
    expect(await lock.withLock('nonce-purge', async () => 'other')).toEqual({ ran: true, value: 'other' });
    held.open();
    expect(await first).toEqual({ ran: true, value: 'done' });
    expect(await lock.withLock('lifecycle', async () => 'again')).toEqual({ ran: true, value: 'again' });
  });

  it('gives every job its own 64-bit key', () => {
    expect(lockKey('lifecycle')).toMatch(/^-?\d+$/);
    expect(lockKey('lifecycle')).toBe(lockKey('lifecycle'));
    expect(lockKey('lifecycle')).not.toBe(lockKey('nonce-purge'));
  });
});

describe.skipIf(!postgresUrl())('the job lock on PostgreSQL (two processes, one database)', () => {
  let database: TestDatabase;
  let one: OpenDatabase;
  let two: OpenDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
    one = await openPostgresDatabase(database.url);
    two = await openPostgresDatabase(database.url);
  });
  afterAll(async () => {
    await one?.close();
    await two?.close();
    await database?.drop();
  });

  it('lets one pool run a job while the other, asking at the same moment, skips it', async () => {
    const [a, b] = [createJobLock(one.db), createJobLock(two.db)];
    const held = gate();
    let runs = 0;
    const body = async () => {
      runs += 1;
      await held.opened;
      return runs;
    };
    const first = a.withLock('lifecycle', body);
    await vi.waitFor(() => expect(runs).toBe(1));
    expect(await b.withLock('lifecycle', body)).toEqual({ ran: false });
    expect(await b.withLock('webhook-delivery', async () => 'other job')).toEqual({ ran: true, value: 'other job' });
    held.open();
    expect(await first).toEqual({ ran: true, value: 1 });
    // Released with the run: the other process gets it next time.
    expect(await b.withLock('lifecycle', async () => 'next')).toEqual({ ran: true, value: 'next' });
  });

  it('releases the lock when the body fails', async () => {
    const [a, b] = [createJobLock(one.db), createJobLock(two.db)];
    await expect(a.withLock('lifecycle', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await b.withLock('lifecycle', async () => 'free')).toEqual({ ran: true, value: 'free' });
  });

  it('two runners started at the same moment on one database run the job body once', async () => {
    const held = gate();
    let runs = 0;
    const outcomes: string[] = [];
    const runnerOf = (db: OpenDatabase) =>
      createJobRunner({
        jobs: [
          {
            name: 'lifecycle',
            intervalMs: HOUR,
            run: async () => {
              runs += 1;
              await held.opened;
            },
          },
        ],
        lock: createJobLock(db.db),
        startDelayMs: 0,
        onRun: (_job, outcome) => outcomes.push(outcome),
      });
    const runners = [runnerOf(one), runnerOf(two)];
    for (const runner of runners) runner.start();
    await vi.waitFor(() => expect(outcomes).toEqual(['skipped']), { timeout: 5_000 });
    held.open();
    await vi.waitFor(() => expect(outcomes.sort()).toEqual(['ok', 'skipped']), { timeout: 5_000 });
    await Promise.all(runners.map((r) => r.stop()));
    expect(runs).toBe(1);
  });
});
