import { SmartlicError } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { RunOptions, Transactor, TransactorOptions, Work } from './transactor.js';

/** serialization_failure and deadlock_detected: the transaction may succeed if run again. */
const RETRYABLE = new Set(['40001', '40P01']);
/** How long a unit keeps being retried before it is answered `SERVER_BUSY`. */
const RETRY_BUDGET_MS = 30_000;

/** Kysely's name of each isolation level. */
const LEVELS = { serializable: 'serializable', 'read-committed': 'read committed' } as const;

/**
 * PostgreSQL: each unit of work in its own SERIALIZABLE transaction on the pool (or READ
 * COMMITTED when the unit asks for it: see {@link RunOptions}). On SQLite a
 * read-check-write unit is safe because there is one writer; here several units (and several
 * server processes) run at once, and SERIALIZABLE makes PostgreSQL abort any unit whose
 * outcome would differ from some serial order. Such a unit (40001, or a deadlock 40P01) is run
 * again from the start after a short random pause, so it must have no effect outside `trx`
 * other than on values it returns. Retries go on for up to 30 s (under 200 devices registering
 * at once with one token, all writing its use count, some units lose tens of times in a row);
 * a unit that still conflicts then fails with `SERVER_BUSY`, as does new work beyond
 * `maxQueue` units in flight.
 */
export function createSerializableTransactor(db: Kysely<Database>, options: TransactorOptions = {}): Transactor {
  const maxQueue = options.maxQueue ?? 10_000;
  let inFlight = 0;
  const idleWaiters: Array<() => void> = [];

  const runWithRetry = async <T>(work: Work<T>, options: RunOptions): Promise<T> => {
    const level = LEVELS[options.isolation ?? 'serializable'];
    const deadline = Date.now() + RETRY_BUDGET_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        return await db.transaction().setIsolationLevel(level).execute(work);
      } catch (error) {
        if (!isRetryable(error)) throw error;
        if (Date.now() >= deadline) {
          throw new SmartlicError('SERVER_BUSY', { cause: error, context: { attempts: attempt } });
        }
        await pause(attempt);
      }
    }
  };

  return {
    async run<T>(work: Work<T>, options: RunOptions = {}): Promise<T> {
      if (inFlight >= maxQueue) {
        throw new SmartlicError('SERVER_BUSY', { context: { queued: inFlight } });
      }
      inFlight++;
      try {
        return await runWithRetry(work, options);
      } finally {
        inFlight--;
        if (inFlight === 0) for (const wake of idleWaiters.splice(0)) wake();
      }
    },
    drain(): Promise<void> {
      if (inFlight === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}

/** Whether `error` is a conflict that running the unit again can resolve. */
export function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRYABLE.has(code);
}

/** A random pause whose ceiling grows with the attempt (2 ms, 4 ms, … up to 64 ms), so that retries spread out. */
function pause(attempt: number): Promise<void> {
  const ceiling = 2 ** Math.min(attempt, 6);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}
