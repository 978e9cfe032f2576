import type { Clock } from '@smartlic/protocol';
import type { InstanceKeyCache } from '../features/instances/instance-key-cache.js';
import type { Logger } from '../logger.js';
import type { Transactor } from '../storage/transactor.js';
import { logExpiredTokens, logLicenseExpiry } from './expiry-jobs.js';
import { handleSilentInstances } from './silent-instances.js';
import { takeUsageSnapshots } from './usage-snapshots.js';

/** What the jobs need. */
export interface JobDeps {
  transactor: Transactor;
  /** Removed instances' entries are dropped from it. */
  keyCache?: InstanceKeyCache | undefined;
  logger?: Logger | undefined;
  /** Told of every run's outcome (metrics). */
  onRun?: ((outcome: 'ok' | 'failed') => void) | undefined;
}

/** What one run of every job did. */
export interface JobsOutcome {
  at: string;
  silentAlerts: number;
  usageReleased: number;
  instancesRemoved: number;
  tokensExpired: number;
  licensesExpiring: number;
  licensesExpired: number;
  snapshots: number;
}

/**
 * Runs every job once as of `now`. Each job does all its work in one transaction whose
 * every step is guarded by a mark (`job_marks`), so two runs at the same time, or one run
 * twice, do the work once.
 */
export async function runJobsOnce(deps: JobDeps, now: number): Promise<JobsOutcome> {
  try {
    const outcome = await runEveryJob(deps, now);
    deps.onRun?.('ok');
    return outcome;
  } catch (error) {
    deps.onRun?.('failed');
    throw error;
  }
}

async function runEveryJob(deps: JobDeps, now: number): Promise<JobsOutcome> {
  const { transactor } = deps;
  const silent = await transactor.run((trx) => handleSilentInstances(trx, now));
  for (const id of silent.removed) deps.keyCache?.delete(id);
  const tokensExpired = await transactor.run((trx) => logExpiredTokens(trx, now));
  const licenses = await transactor.run((trx) => logLicenseExpiry(trx, now));
  const snapshots = await transactor.run((trx) => takeUsageSnapshots(trx, now));
  const outcome: JobsOutcome = {
    at: new Date(now).toISOString(),
    silentAlerts: silent.alerted,
    usageReleased: silent.released,
    instancesRemoved: silent.removed.length,
    tokensExpired,
    licensesExpiring: licenses.expiring,
    licensesExpired: licenses.expired,
    snapshots,
  };
  deps.logger?.debug(outcome, 'jobs ran');
  return outcome;
}

/** Default period of the job timer. */
export const DEFAULT_JOB_INTERVAL_MS = 60 * 60 * 1000;

/** A running job timer. */
export interface JobRunner {
  stop(): Promise<void>;
}

/**
 * Runs the jobs every `intervalMs` of real time, as of the injected clock's time (so a
 * simulated clock moves them too). The first run comes after one interval. A failed run is
 * logged and retried at the next tick; `stop` waits for a run in progress.
 */
export function startJobs(deps: JobDeps & { clock: Clock; intervalMs?: number }): JobRunner {
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = runJobsOnce(deps, deps.clock.now())
      .catch((error: unknown) => deps.logger?.warn({ err: error }, 'Background jobs failed; will retry'))
      .finally(() => {
        running = undefined;
      });
  }, deps.intervalMs ?? DEFAULT_JOB_INTERVAL_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
