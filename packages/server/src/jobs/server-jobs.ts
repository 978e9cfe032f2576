import type { Clock } from '@smartlic/protocol';
import { WEBHOOK_TICK_MS, type WebhookJobs } from '../features/webhooks/webhook-jobs.js';
import type { BackgroundJob } from './job-runner.js';
import {
  DEFAULT_JOB_INTERVAL_MS,
  type JobDeps,
  NONCE_PURGE_INTERVAL_MS,
  purgeOldNonces,
  runLifecycleJobs,
} from './run-jobs.js';

/** What the server's background jobs are made of. */
export interface ServerJobsDeps {
  jobs: JobDeps;
  clock: Clock;
  webhooks: Pick<WebhookJobs, 'queueSummaries' | 'deliver'>;
  /** Period of the lifecycle jobs (real time); default {@link DEFAULT_JOB_INTERVAL_MS}. */
  lifecycleIntervalMs?: number | undefined;
  /** Deletes the portal sessions that have ended (idle or past their lifetime) as of `now`. */
  purgeSessions: (now: number) => Promise<number>;
}

/**
 * Every background job of the server, by name, with its interval: the lifecycle jobs (hourly),
 * the nonce and ended-session purges (every 10 minutes), and the daily summaries and webhook deliveries (every 10 s).
 * Each judges what is due on the injected clock.
 */
export function serverJobs(deps: ServerJobsDeps): BackgroundJob[] {
  const { jobs, clock, webhooks } = deps;
  return [
    {
      name: 'lifecycle',
      intervalMs: deps.lifecycleIntervalMs ?? DEFAULT_JOB_INTERVAL_MS,
      run: () => runLifecycleJobs(jobs, clock.now()),
    },
    { name: 'nonce-purge', intervalMs: NONCE_PURGE_INTERVAL_MS, run: () => purgeOldNonces(jobs, clock.now()) },
    { name: 'session-purge', intervalMs: NONCE_PURGE_INTERVAL_MS, run: () => deps.purgeSessions(clock.now()) },
    { name: 'daily-summaries', intervalMs: WEBHOOK_TICK_MS, run: () => webhooks.queueSummaries() },
    { name: 'webhook-delivery', intervalMs: WEBHOOK_TICK_MS, run: () => webhooks.deliver() },
  ];
}
