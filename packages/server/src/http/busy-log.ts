import type { FastifyBaseLogger } from 'fastify';

/** How often, at most, a burst of `SERVER_BUSY` refusals is summed up in the log. */
export const BUSY_LOG_WINDOW_MS = 10_000;

/** Logs `SERVER_BUSY` refusals: what heals itself is WARN, and a burst is one line, not one per request. */
export interface BusyLog {
  /** Notes one refusal. */
  refused(requestId: string): void;
  /** Logs the count of a burst still open (on close). */
  flush(): void;
}

/** Timers, injected so that tests need not wait. */
export interface BusyLogTimers {
  setTimeout(fn: () => void, ms: number): { unref?: () => unknown };
  clearTimeout(handle: unknown): void;
}

/**
 * The first refusal of a burst is logged at WARN at once; later ones are counted and summed up
 * in one WARN line at most every `windowMs`. A window without refusals ends the burst, so the
 * next refusal is logged at once again.
 */
export function createBusyLog(
  log: FastifyBaseLogger,
  windowMs = BUSY_LOG_WINDOW_MS,
  timers: BusyLogTimers = globalThis as unknown as BusyLogTimers,
): BusyLog {
  let timer: unknown;
  let inBurst = false;
  let count = 0;

  const summarize = (): boolean => {
    if (count === 0) return false;
    log.warn(
      { code: 'SERVER_BUSY', refused: count },
      `Server busy: ${count} more request(s) refused in the last ${Math.round(windowMs / 1000)} s`,
    );
    count = 0;
    return true;
  };
  const tick = (): void => {
    if (summarize()) arm();
    else {
      inBurst = false;
      timer = undefined;
    }
  };
  const arm = (): void => {
    const handle = timers.setTimeout(tick, windowMs);
    handle.unref?.();
    timer = handle;
  };

  return {
    refused(requestId) {
      if (inBurst) {
        count += 1;
        return;
      }
      inBurst = true;
      log.warn(
        { code: 'SERVER_BUSY', requestId },
        'Server busy: requests are refused with SERVER_BUSY until the database queue drains (further refusals are summed up)',
      );
      arm();
    },
    flush() {
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
      summarize();
      inBurst = false;
    },
  };
}
