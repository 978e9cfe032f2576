import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { engineOf } from '../storage/database.js';
import type { Database } from '../storage/schema.js';

/** What {@link JobLock.withLock} did: ran the body (and its value), or skipped it. */
export type LockedRun<T> = { ran: true; value: T } | { ran: false };

/** Lets one process at a time run a named job. */
export interface JobLock {
  /** Runs `body` if this process gets the lock of `job` now; otherwise skips it (never waits). */
  withLock<T>(job: string, body: () => Promise<T>): Promise<LockedRun<T>>;
}

/**
 * The lock of background job runs. On PostgreSQL, a session advisory lock per job
 * (`pg_try_advisory_lock`) held on one pooled connection while the body runs: a second
 * process asking at the same time is told no and skips that run, and a process that dies
 * loses the lock with its connection (no lease to expire). On SQLite the database belongs
 * to one process, so the lock is in-process only.
 */
export function createJobLock(db: Kysely<Database>): JobLock {
  return engineOf(db) === 'postgres' ? advisoryLock(db) : createInProcessJobLock();
}

function advisoryLock(db: Kysely<Database>): JobLock {
  return {
    withLock: (job, body) =>
      db.connection().execute(async (conn) => {
        const key = lockKey(job);
        const taken = await sql<{
          locked: boolean;
        }>`select pg_try_advisory_lock(cast(${key} as bigint)) as locked`.execute(conn);
        if (taken.rows[0]?.locked !== true) return { ran: false };
        try {
          return { ran: true, value: await body() };
        } finally {
          await sql`select pg_advisory_unlock(cast(${key} as bigint))`.execute(conn);
        }
      }),
  };
}

/** A lock held within this process only (SQLite, whose database belongs to one process; tests). */
export function createInProcessJobLock(): JobLock {
  const held = new Set<string>();
  return {
    async withLock(job, body) {
      if (held.has(job)) return { ran: false };
      held.add(job);
      try {
        return { ran: true, value: await body() };
      } finally {
        held.delete(job);
      }
    },
  };
}

/** The advisory-lock key of a job: a signed 64-bit number from its name (as a decimal string). */
export function lockKey(job: string): string {
  return createHash('sha256').update(`smartlic.job.${job}`).digest().readBigInt64BE(0).toString();
}
