import { SmartlicError } from '@smartlic/protocol';
import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely, Transaction } from 'kysely';
import type { OpenDatabase, OpenSqliteDatabase } from './database.js';
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
  /**
   * The unit writes a bounded handful of rows, as a device message's does (SQLite only). A batch
   * made only of such units keeps the undo copies of its savepoints in memory instead of a
   * temporary file; a batch that holds any other unit, which may write without bound, keeps them
   * on disk.
   */
  small?: boolean;
}

/** The options of a device message's unit of work: it writes a bounded handful of rows. */
export const DEVICE_UNIT: RunOptions = { small: true };

/** Runs units of work atomically and durably. */
export interface Transactor {
  /**
   * Runs `work` in a transaction: all of its writes commit together or, if it throws,
   * none do. Resolves only once the commit is on disk. Never call `run` from inside work.
   */
  run<T>(work: Work<T>, options?: RunOptions): Promise<T>;
  /** Resolves when every queued unit of work has settled. */
  drain(): Promise<void>;
  /** SQLite's group commit: what it has committed since the database opened (for `GET /metrics`). */
  commitStatistics?(): CommitStatistics;
}

/** What the group commit has done since the database opened; every figure only grows. */
export interface CommitStatistics {
  /** Batches committed (each one transaction and one WAL sync). */
  batches: number;
  /** Units of work acknowledged as durable. */
  units: number;
  /** WAL syncs run, and the wall time during which one was running. */
  syncs: number;
  syncSeconds: number;
  /** Times the writer held a batch for the log to start over (ADR 0025), and how long it waited in all. */
  restarts: number;
  restartSeconds: number;
}

interface Job {
  work: Work<unknown>;
  small: boolean;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Options of a transactor. */
export interface TransactorOptions {
  /** SQLite: units per group commit at most; default 128. */
  maxBatch?: number;
  /** Units waiting (SQLite) or in flight (PostgreSQL) beyond which new work is refused with `SERVER_BUSY`; default 10,000. */
  maxQueue?: number;
}

/**
 * The transactor for the database's engine: group commit on SQLite
 * ({@link createGroupCommitTransactor}), one transaction per unit (SERIALIZABLE unless the unit
 * asks for READ COMMITTED), retried on conflicts, on PostgreSQL ({@link createSerializableTransactor}).
 */
export function createTransactor(database: OpenDatabase, options: TransactorOptions = {}): Transactor {
  return database.engine === 'postgres'
    ? createSerializableTransactor(database.db, options)
    : createGroupCommitTransactor(database as OpenSqliteDatabase, options);
}

/**
 * SQLite: a transactor with group commit. Work that arrives while a batch is being written or
 * synced is queued; the next batch runs all of it in one transaction, each unit inside its own
 * SAVEPOINT, so one unit's failure rolls back that unit only. The COMMIT writes the log without
 * waiting for the disk (`synchronous=NORMAL`); the batch's units are acknowledged once the WAL's
 * fdatasync, run on the thread pool ({@link WalSync}), has completed (ADR 0002). Meanwhile the
 * event loop goes on parsing, verifying and signing, and the units that reach the transactor
 * wait for the next batch: a unit committed during a sync would be acknowledged only after the
 * next sync anyway, and one COMMIT of many units writes each shared page of the log once
 * (issue 15). Only when `maxBatch` units wait does a batch start during a sync, so that a slow
 * disk does not cap the rate at one batch per sync. Under no load a batch holds one unit. Beyond
 * `maxQueue` waiting units, new work is refused at once with `SERVER_BUSY`.
 */
export function createGroupCommitTransactor(database: OpenSqliteDatabase, options: TransactorOptions = {}): Transactor {
  const { db, walSync } = database;
  const savepoints = unitSavepoints(database.sqlite);
  const maxBatch = options.maxBatch ?? 128;
  const maxQueue = options.maxQueue ?? 10_000;
  const queue: Job[] = [];
  const idleWaiters: Array<() => void> = [];
  let scheduled = false;
  let running = false;
  let syncing = 0;
  let batches = 0;
  let units = 0;
  let restarts = 0;
  let restartSeconds = 0;

  const schedule = (): void => {
    if (scheduled || running || queue.length === 0) return;
    // While a sync runs, only a full batch starts: the queue must not outgrow the disk's latency.
    if (syncing > 0 && queue.length < maxBatch) return;
    scheduled = true;
    setImmediate(() => void flush());
  };

  const wakeIfIdle = (): void => {
    if (!running && !scheduled && syncing === 0 && queue.length === 0) for (const wake of idleWaiters.splice(0)) wake();
  };

  const flush = async (): Promise<void> => {
    scheduled = false;
    running = true;
    // The log has outgrown what checkpoints beside the writes can copy: hold this batch while one
    // runs alone, so that the batch writes the log from its start again (ADR 0025). Units queue meanwhile.
    if (database.walCheckpointer.restartDue()) {
      const started = performance.now();
      await database.walCheckpointer.restart();
      restarts++;
      restartSeconds += (performance.now() - started) / 1000;
    }
    const batch = queue.splice(0, maxBatch);
    const outcomes = await runBatch(db, savepoints, batch);
    running = false;
    // Units that failed changed nothing: they hear at once. The others once their commit is on disk.
    batch.forEach((job, i) => {
      const outcome = outcomes[i]!;
      if (!outcome.ok) job.reject(outcome.error);
    });
    if (outcomes.some((o) => o.ok)) {
      syncing++;
      const sync = walSync.sync();
      schedule();
      const failure = await sync.then(
        () => undefined,
        (error: unknown) => ({ error }),
      );
      syncing--;
      schedule();
      if (!failure) {
        database.walCheckpointer.request();
        batches++;
        units += outcomes.filter((o) => o.ok).length;
      }
      batch.forEach((job, i) => {
        const outcome = outcomes[i]!;
        if (!outcome.ok) return;
        if (failure) job.reject(failure.error);
        else job.resolve(outcome.value);
      });
    } else schedule();
    wakeIfIdle();
  };

  return {
    run<T>(work: Work<T>, options: RunOptions = {}): Promise<T> {
      if (queue.length >= maxQueue) {
        // Overload: answer at once ("Your request could not be processed now. Please try again")
        // rather than let every request wait longer and longer.
        return Promise.reject(new SmartlicError('SERVER_BUSY', { context: { queued: queue.length } }));
      }
      return new Promise<T>((resolve, reject) => {
        queue.push({ work, small: options.small === true, resolve: resolve as (value: unknown) => void, reject });
        schedule();
      });
    },
    drain(): Promise<void> {
      if (!running && !scheduled && syncing === 0 && queue.length === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    commitStatistics(): CommitStatistics {
      const sync = walSync.statistics();
      return { batches, units, syncs: sync.syncs, syncSeconds: sync.seconds, restarts, restartSeconds };
    },
  };
}

/** The SAVEPOINT statements around each unit, prepared once on the connection, and where their undo pages go. */
interface UnitSavepoints {
  open(): void;
  release(): void;
  rollback(): void;
  /**
   * Keeps the undo copies of pages of the savepoints that follow in memory (`true`) or in a
   * temporary file, SQLite's default; outside a transaction only. A savepoint copies every page
   * its unit changes; past 64 KiB SQLite spills the copies to a file, which cost a registration a
   * third of its database time in write calls. In memory they take as much as the units change,
   * so only batches of small units keep them there, and the connection returns to the default
   * after each: the setting also keeps in memory the temporary data of every other query on the
   * connection (a large sort outside the transactor).
   */
  undoInMemory(inMemory: boolean): void;
}

function unitSavepoints(sqlite: BetterSqlite3.Database): UnitSavepoints {
  const open = sqlite.prepare('savepoint smartlic_unit');
  const release = sqlite.prepare('release savepoint smartlic_unit');
  const rollback = sqlite.prepare('rollback to savepoint smartlic_unit');
  let inMemory = false;
  return {
    open: () => void open.run(),
    release: () => void release.run(),
    rollback: () => void rollback.run(),
    undoInMemory(wanted) {
      if (wanted === inMemory) return;
      // SQLite applies this pragma as it compiles it, so it cannot be prepared once; and only
      // outside a transaction, which is where a batch starts.
      sqlite.pragma(wanted ? 'temp_store = memory' : 'temp_store = default');
      inMemory = wanted;
    },
  };
}

async function runBatch(db: Kysely<Database>, savepoints: UnitSavepoints, batch: Job[]): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const small = batch.every((job) => job.small);
  try {
    savepoints.undoInMemory(small);
    // The batch holds Kysely's one SQLite connection, so the savepoints run on it directly.
    await db.transaction().execute(async (trx) => {
      for (const job of batch) {
        savepoints.open();
        try {
          const value = await job.work(trx);
          savepoints.release();
          outcomes.push({ ok: true, value });
        } catch (error) {
          outcomes.push({ ok: false, error });
          // If undoing the unit fails, the transaction is unusable: abort the whole batch.
          savepoints.rollback();
          savepoints.release();
        }
      }
    });
  } catch (error) {
    // Nothing of this batch was committed: units that had succeeded fail with the cause.
    return batch.map((_, i) => {
      const outcome = outcomes[i];
      return outcome && !outcome.ok ? outcome : { ok: false, error };
    });
  } finally {
    if (small) restoreTempStore(savepoints);
  }
  return outcomes;
}

/** Back to SQLite's default after a batch of small units; if that fails, the next batch sets it again. */
function restoreTempStore(savepoints: UnitSavepoints): void {
  try {
    savepoints.undoInMemory(false);
  } catch {
    // The setting stays as it was, and `undoInMemory` still knows it.
  }
}
