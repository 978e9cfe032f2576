import type { Clock } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import type { SecretBox } from '../../crypto/secret-box.js';
import type { Logger } from '../../logger.js';
import type { Database } from '../../storage/schema.js';
import type { Transactor } from '../../storage/transactor.js';
import { queueDailySummaries } from './daily-summary.js';
import { createWebhookDispatcher } from './webhook-dispatcher.js';
import type { WebhookSender } from './webhook-sender.js';

/** How often (real time) the job runner looks for due notification work. */
export const WEBHOOK_TICK_MS = 10_000;

export interface WebhookJobsDeps {
  db: Kysely<Database>;
  transactor: Transactor;
  clock: Clock;
  secrets: SecretBox;
  logger?: Logger;
  send: WebhookSender;
  /** Told what each delivery run sent (metrics). */
  onRun?: (sent: { delivered: number; failed: number }) => void;
}

/**
 * The notification jobs: queue the daily summaries that are due (`queueSummaries`) and send
 * due deliveries (`deliver`). The background job runner (`jobs/job-runner.ts`) runs each every
 * {@link WEBHOOK_TICK_MS}, never in a request; `stop` aborts requests in flight and waits for
 * the run in progress. Due-ness is judged on the injected clock, so tests call `runDue` (both,
 * in that order) after advancing a ManualClock.
 */
export function createWebhookJobs(deps: WebhookJobsDeps) {
  const dispatcher = createWebhookDispatcher(deps);

  const queueSummaries = (): Promise<number> =>
    deps.transactor.run((trx) => queueDailySummaries(trx, deps.clock.now()));

  const deliver = async (): Promise<{ delivered: number; failed: number }> => {
    const sent = await dispatcher.runDue();
    deps.onRun?.(sent);
    return sent;
  };

  return {
    queueSummaries,
    deliver,
    async runDue(): Promise<{ summaries: number; delivered: number; failed: number }> {
      const summaries = await queueSummaries();
      return { summaries, ...(await deliver()) };
    },
    stop: (): Promise<void> => dispatcher.stop(),
  };
}

export type WebhookJobs = ReturnType<typeof createWebhookJobs>;
