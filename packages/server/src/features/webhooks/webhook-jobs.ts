import type { Clock } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import type { SecretBox } from '../../crypto/secret-box.js';
import type { Logger } from '../../logger.js';
import type { Database } from '../../storage/schema.js';
import type { Transactor } from '../../storage/transactor.js';
import { queueDailySummaries } from './daily-summary.js';
import { createWebhookDispatcher } from './webhook-dispatcher.js';
import type { WebhookSender } from './webhook-sender.js';

/** How often (real time) the background loop looks for due work by default. */
export const WEBHOOK_TICK_MS = 10_000;

export interface WebhookJobsDeps {
  db: Kysely<Database>;
  transactor: Transactor;
  clock: Clock;
  secrets: SecretBox;
  logger?: Logger;
  send: WebhookSender;
  /** Real-time interval of the background loop; default {@link WEBHOOK_TICK_MS}. */
  tickMs?: number;
  /** Told what each run sent (metrics). */
  onRun?: (sent: { delivered: number; failed: number }) => void;
}

/**
 * The notification jobs: queue the daily summaries that are due, then send due
 * deliveries. `start` runs them every `tickMs` on an unref'd timer (never in a request);
 * `stop` ends the loop and waits for the run in progress. Due-ness is judged on the
 * injected clock, so tests call `runDue` after advancing a ManualClock.
 */
export function createWebhookJobs(deps: WebhookJobsDeps) {
  const dispatcher = createWebhookDispatcher(deps);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const runDue = async (): Promise<{ summaries: number; delivered: number; failed: number }> => {
    const summaries = await deps.transactor.run((trx) => queueDailySummaries(trx, deps.clock.now()));
    const sent = await dispatcher.runDue();
    deps.onRun?.(sent);
    return { summaries, ...sent };
  };

  return {
    runDue,
    start(): void {
      if (timer || stopped) return;
      timer = setInterval(() => {
        runDue().catch((error: unknown) => deps.logger?.warn({ err: error }, 'Webhook jobs failed; will retry'));
      }, deps.tickMs ?? WEBHOOK_TICK_MS);
      timer.unref();
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      await dispatcher.stop();
    },
  };
}

export type WebhookJobs = ReturnType<typeof createWebhookJobs>;
