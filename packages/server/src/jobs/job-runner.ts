import type { Logger } from '../logger.js';
import type { JobLock } from './job-lock.js';

/** Real time from start to each job's first run, by default: due work catches up within seconds of a start. */
export const DEFAULT_JOB_START_DELAY_MS = 5_000;

/** One named background job and how often it runs. */
export interface BackgroundJob {
  name: string;
  /** Real time between the end of one run and the start of the next. */
  intervalMs: number;
  /** Does what is due (as of the injected clock); must be idempotent, as another process may have done it. */
  run(): Promise<unknown>;
}

/** Options of {@link createJobRunner}. */
export interface JobRunnerOptions {
  jobs: readonly BackgroundJob[];
  /** One process at a time per job (`createJobLock`). */
  lock: JobLock;
  logger?: Logger | undefined;
  /** Real time from `start` to each job's first run; default {@link DEFAULT_JOB_START_DELAY_MS}. */
  startDelayMs?: number | undefined;
  /** Told of every run: done, skipped (another process held the lock) or failed. */
  onRun?: ((job: string, outcome: 'ok' | 'skipped' | 'failed') => void) | undefined;
}

/** The background runner: `start` once listening, `stop` before closing. */
export interface JobRunner {
  start(): void;
  /** Ends the timers and waits for the runs in progress. */
  stop(): Promise<void>;
}

/**
 * Runs every job first `startDelayMs` after start (so work that fell due while the server was
 * stopped is done at once), then every `intervalMs` after the previous run ended, on unref'd
 * timers. A job's runs never overlap; each takes the job's lock and is skipped when another
 * process holds it. A failed run is logged and retried at the next interval.
 */
export function createJobRunner(options: JobRunnerOptions): JobRunner {
  const timers = new Map<string, NodeJS.Timeout>();
  const running = new Set<Promise<void>>();
  let started = false;
  let stopped = false;

  const runOnce = async (job: BackgroundJob): Promise<void> => {
    try {
      const outcome = await options.lock.withLock(job.name, () => job.run());
      options.onRun?.(job.name, outcome.ran ? 'ok' : 'skipped');
    } catch (error) {
      options.onRun?.(job.name, 'failed');
      options.logger?.warn({ err: error, job: job.name }, 'Background job failed; will retry');
    }
  };

  const schedule = (job: BackgroundJob, delayMs: number): void => {
    const timer = setTimeout(() => {
      timers.delete(job.name);
      const run = runOnce(job).finally(() => {
        running.delete(run);
        if (!stopped) schedule(job, job.intervalMs);
      });
      running.add(run);
    }, delayMs);
    timer.unref();
    timers.set(job.name, timer);
  };

  return {
    start() {
      if (started || stopped) return;
      started = true;
      for (const job of options.jobs) schedule(job, options.startDelayMs ?? DEFAULT_JOB_START_DELAY_MS);
    },
    async stop() {
      stopped = true;
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      await Promise.all(running);
    },
  };
}
