import { SmartlicError } from '@smartlic/protocol';
import { type Kysely, sql, type Transaction } from 'kysely';
import { engineOf } from './database.js';
import { createSerializableTransactor } from './postgres-transactor.js';
import type { Database } from './schema.js';

/** A unit of work against the database; it must use `trx` only and must not wait on anything but it. */
export type Work<T> = (trx: Transaction<Database>) => Promise<T>;

/**
 * How isolated a unit of work runs on PostgreSQL (ADR 0009). `serializable`, the default, makes
 * every read-check-write unit safe without locks; `read-committed` is for units whose every
 * shared write is a row lock or an atomic increment (the authorization renewal), which then
 * never abort on a serialization conflict. SQLite runs every unit alone, which is stronger than both.
 */
export type Isolation = 'serializable' | 'read-committed';

/** Options of one unit of work. */
export interface RunOptions {
  /** PostgreSQL only; default `serializable`. */
  isolation?: Isolation;
}

/** Runs units of work atomically and durably. */
export interface Transactor {
  /**
   * Runs `work` in a transaction: all of its writes commit together or, if it throws,
   * none do. Resolves only once the commit is on disk. Never call `run` from inside work.
   */
  run<T>(work: Work<T>, options?: RunOptions): Promise<T>;
  /** Resolves when every queued unit of work has settled. */
  drain(): Promise<void>;
}

interface Job {
  work: Work<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Options of a transactor. */
export interface TransactorOptions {
  /** SQLite: units per group commit; default 128. */
  maxBatch?: number;
  /** Units waiting (SQLite) or in flight (PostgreSQL) beyond which new work is refused with `SERVER_BUSY`; default 10,000. */
  maxQueue?: number;
}

/**
 * The transactor for `db`'s engine: group commit on SQLite ({@link createGroupCommitTransactor}),
 * one transaction per unit (SERIALIZABLE unless the unit asks for READ COMMITTED), retried on
 * conflicts, on PostgreSQL ({@link createSerializableTransactor}).
 */
export function createTransactor(db: Kysely<Database>, options: TransactorOptions = {}): Transactor {
  return engineOf(db) === 'postgres'
    ? createSerializableTransactor(db, options)
    : createGroupCommitTransactor(db, options);
}

/**
 * SQLite: a transactor with group commit. With synchronous=FULL every commit costs an fsync
 * (~0.25 ms here), which alone would cap the server near 4,000 writes/s. Work that arrives
 * while a batch is being written is queued; the next batch runs all of it in one
 * transaction, each unit inside its own SAVEPOINT, so one unit's failure rolls back that
 * unit only, and every unit is acknowledged after the single commit. Under no load a batch
 * holds one unit and this is an ordinary transaction. Beyond `maxQueue` waiting units, new
 * work is refused at once with `SERVER_BUSY`.
 */
export function createGroupCommitTransactor(db: Kysely<Database>, options: TransactorOptions = {}): Transactor {
  const maxBatch = options.maxBatch ?? 128;
  const maxQueue = options.maxQueue ?? 10_000;
  const queue: Job[] = [];
  const idleWaiters: Array<() => void> = [];
  let scheduled = false;
  let running = false;

  const schedule = (): void => {
    if (scheduled || running || queue.length === 0) return;
    scheduled = true;
    setImmediate(() => void flush());
  };

  const flush = async (): Promise<void> => {
    scheduled = false;
    running = true;
    const batch = queue.splice(0, maxBatch);
    const outcomes = await runBatch(db, batch);
    batch.forEach((job, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) job.resolve(outcome.value);
      else job.reject(outcome.error);
    });
    running = false;
    if (queue.length > 0) schedule();
    else for (const wake of idleWaiters.splice(0)) wake();
  };

  return {
    run<T>(work: Work<T>): Promise<T> {
      if (queue.length >= maxQueue) {
        // Overload: answer at once ("Your request could not be processed now. Please try again")
        // rather than let every request wait longer and longer.
        return Promise.reject(new SmartlicError('SERVER_BUSY', { context: { queued: queue.length } }));
      }
      return new Promise<T>((resolve, reject) => {
        queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
        schedule();
      });
    },
    drain(): Promise<void> {
      if (!running && !scheduled && queue.length === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}

async function runBatch(db: Kysely<Database>, batch: Job[]): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  try {
    await db.transaction().execute(async (trx) => {
      for (const job of batch) {
        await sql`savepoint smartlic_unit`.execute(trx);
        try {
          const value = await job.work(trx);
          await sql`release savepoint smartlic_unit`.execute(trx);
          outcomes.push({ ok: true, value });
        } catch (error) {
          outcomes.push({ ok: false, error });
          // If undoing the unit fails, the transaction is unusable: abort the whole batch.
          await sql`rollback to savepoint smartlic_unit`.execute(trx);
          await sql`release savepoint smartlic_unit`.execute(trx);
        }
      }
    });
  } catch (error) {
    // Nothing of this batch was committed: units that had succeeded fail with the cause.
    return batch.map((_, i) => {
      const outcome = outcomes[i];
      return outcome && !outcome.ok ? outcome : { ok: false, error };
    });
  }
  return outcomes;
}
