import type { Transactor } from '../../storage/transactor.js';
import { recordKeyUses } from './api-key-store.js';

/** Real time between two flushes of the noted key uses, by default: well inside the minute `last_used_at` is kept to. */
export const DEFAULT_KEY_USE_FLUSH_MS = 15_000;

/** Options of {@link createKeyUseRecorder}. */
export interface KeyUseRecorderDeps {
  transactor: Transactor;
  /** Real time between flushes; default {@link DEFAULT_KEY_USE_FLUSH_MS}. */
  flushIntervalMs?: number | undefined;
  /** Told when a flush fails (the uses stay noted and are written by the next one). */
  onError?: ((error: unknown) => void) | undefined;
}

/**
 * When API keys were last used, kept off the request path: `note` only remembers the time (in
 * memory, per key), and `flush` writes every noted time in one transaction — on an unref'd
 * real-time timer once `start`ed, and on `stop`. A stored time only ever moves forward, so two
 * processes flushing in any order keep the later use. What a process has noted but not yet
 * flushed is read through `pendingOf`, so this process's own answers are exact.
 */
export function createKeyUseRecorder({ transactor, flushIntervalMs, onError }: KeyUseRecorderDeps) {
  const pending = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();

  const flush = (): Promise<void> => {
    const run = flushing.then(async () => {
      if (pending.size === 0) return;
      const uses = [...pending];
      await transactor.run((trx) => recordKeyUses(trx, uses));
      // A use noted during the write stays pending; one written is dropped only if unchanged since.
      for (const [id, at] of uses) if (pending.get(id) === at) pending.delete(id);
    });
    // Flushes run one after another; a failed one leaves its uses noted for the next.
    flushing = run.catch(() => undefined);
    return run;
  };

  return {
    /** Remembers that key `id` was used at `at`. */
    note(id: string, at: number): void {
      pending.set(id, Math.max(at, pending.get(id) ?? at));
    },
    /** The use of key `id` noted here and not yet written, if any. */
    pendingOf(id: string): number | undefined {
      return pending.get(id);
    },
    /** Writes the noted uses now (one transaction; nothing when there are none). */
    flush,
    /** Starts flushing every `flushIntervalMs` of real time. */
    start(): void {
      if (timer) return;
      timer = setInterval(() => {
        flush().catch((error: unknown) => onError?.(error));
      }, flushIntervalMs ?? DEFAULT_KEY_USE_FLUSH_MS);
      timer.unref();
    },
    /**
     * Stops the timer and writes what is still noted. A failed last write is told to `onError`,
     * not thrown: a display field must not stop a server from closing.
     */
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      await flush().catch((error: unknown) => onError?.(error));
    },
  };
}

export type KeyUseRecorder = ReturnType<typeof createKeyUseRecorder>;
