import { SmartlicError } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { Transactor, TransactorOptions, Work } from './transactor.js';

/** serialization_failure and deadlock_detected: the transaction may succeed if run again. */
const RETRYABLE = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 30;

/**
 * PostgreSQL: each unit of work in its own SERIALIZABLE transaction on the pool. On SQLite a
 * read-check-write unit is safe because there is one writer; here several units (and several
 * server processes) run at once, and SERIALIZABLE makes PostgreSQL abort any unit whose
 * outcome would differ from some serial order. Such a unit (40001, or a deadlock 40P01) is run
 * again from the start after a short random pause, so it must have no effect outside `trx`
 * other than on values it returns. Beyond `maxQueue` units in flight, new work is refused at
 * once with `SERVER_BUSY`.
 */
export function createSerializableTransactor(db: Kysely<Database>, options: TransactorOptions = {}): Transactor {
  const maxQueue = options.maxQueue ?? 10_000;
  let inFlight = 0;
  const idleWaiters: Array<() => void> = [];

  const runWithRetry = async <T>(work: Work<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await db.transaction().setIsolationLevel('serializable').execute(work);
      } catch (error) {
        if (!isRetryable(error) || attempt >= MAX_ATTEMPTS) throw error;
        await pause(attempt);
      }
    }
  };

  return {
    async run<T>(work: Work<T>): Promise<T> {
      if (inFlight >= maxQueue) {
        throw new SmartlicError('SERVER_BUSY', { context: { queued: inFlight } });
      }
      inFlight++;
      try {
        return await runWithRetry(work);
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

/** A random pause that grows with the attempt (1–2 ms, then up to ~100 ms), so that retries spread out. */
function pause(attempt: number): Promise<void> {
  const ceiling = Math.min(100, 2 ** Math.min(attempt, 7));
  return new Promise((resolve) => setTimeout(resolve, ceiling / 2 + Math.random() * (ceiling / 2)));
}
