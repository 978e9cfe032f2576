import { purgeNonces } from '../features/device/nonce-store.js';
import type { InstanceKeyCache } from '../features/instances/instance-key-cache.js';
import { alertSatellites } from '../features/satellites/satellite-alerts-job.js';
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
  /** Tolerated device clock offset: nonces older than twice it are forgotten. */
  clockToleranceMs: number;
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
  noncesPurged: number;
}

/**
 * Runs every job once as of `now` (`POST /api/v1/jobs/run`): the lifecycle jobs, then the nonce
 * purge; the background runner runs the same two as separate jobs. Each job does all its work in one transaction whose
 * every step is guarded by a mark (`job_marks`), so two runs at the same time, or one run
 * twice, do the work once.
 */
export async function runJobsOnce(deps: JobDeps, now: number): Promise<JobsOutcome> {
  const lifecycle = await runLifecycleJobs(deps, now);
  return { ...lifecycle, noncesPurged: await purgeOldNonces(deps, now) };
}

/**
 * The lifecycle jobs as of `now`: silent instances, token and license expiry, usage snapshots.
 * Each run's outcome is told to `onRun` (metrics).
 */
export async function runLifecycleJobs(deps: JobDeps, now: number): Promise<Omit<JobsOutcome, 'noncesPurged'>> {
  try {
    const outcome = await lifecycleJobs(deps, now);
    deps.onRun?.('ok');
    return outcome;
  } catch (error) {
    deps.onRun?.('failed');
    throw error;
  }
}

async function lifecycleJobs(deps: JobDeps, now: number): Promise<Omit<JobsOutcome, 'noncesPurged'>> {
  const { transactor } = deps;
  const silent = await transactor.run((trx) => handleSilentInstances(trx, now));
  for (const id of silent.removed) deps.keyCache?.delete(id);
  const tokensExpired = await transactor.run((trx) => logExpiredTokens(trx, now));
  const licenses = await transactor.run((trx) => logLicenseExpiry(trx, now));
  const snapshots = await transactor.run((trx) => takeUsageSnapshots(trx, now));
  await transactor.run((trx) => alertSatellites(trx, now));
  const outcome = {
    at: new Date(now).toISOString(),
    silentAlerts: silent.alerted,
    usageReleased: silent.released,
    instancesRemoved: silent.removed.length,
    tokensExpired,
    licensesExpiring: licenses.expiring,
    licensesExpired: licenses.expired,
    snapshots,
  };
  deps.logger?.debug(outcome, 'lifecycle jobs ran');
  return outcome;
}

/** Period of the lifecycle jobs in the background runner (real time). */
export const DEFAULT_JOB_INTERVAL_MS = 60 * 60 * 1000;

/** How often (real time) the background runner purges forgotten nonces. */
export const NONCE_PURGE_INTERVAL_MS = 10 * 60 * 1000;

/**
 * Forgets nonces older than twice the clock tolerance: a replay of such a message is refused
 * by the timestamp check already. Returns how many went.
 */
export async function purgeOldNonces(
  deps: Pick<JobDeps, 'transactor' | 'clockToleranceMs' | 'logger'>,
  now: number,
): Promise<number> {
  const count = await deps.transactor.run((trx) => purgeNonces(trx, now - 2 * deps.clockToleranceMs));
  if (count > 0) deps.logger?.debug({ count }, 'Purged old nonces');
  return count;
}
