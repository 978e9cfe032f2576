import { type Clock, HOUR, MINUTE } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import type { SecretBox } from '../../crypto/secret-box.js';
import type { Logger } from '../../logger.js';
import type { Database } from '../../storage/schema.js';
import type { Transactor } from '../../storage/transactor.js';
import { revealWebhookSecret } from './webhook-secrets.js';
import type { SendOutcome, WebhookSender } from './webhook-sender.js';
import { DELIVERY_HEADER, SIGNATURE_HEADER, signWebhookBody, TIMESTAMP_HEADER } from './webhook-signature.js';
import { type DueDelivery, readDueDeliveries } from './webhook-store.js';

/** Attempts before a delivery is given up ('failed'). */
export const MAX_ATTEMPTS = 10;
/** Deliveries sent (in parallel) per batch. */
const BATCH = 20;

/** Wait after the n-th failed attempt (n ≥ 1): 1 min, 2, 4, … capped at one hour. */
export function retryDelayMs(attempts: number): number {
  return Math.min(MINUTE * 2 ** (attempts - 1), HOUR);
}

export interface WebhookDispatcherDeps {
  db: Kysely<Database>;
  transactor: Transactor;
  clock: Clock;
  /** Opens the stored secrets (checked at start, so failing here means a corrupted row). */
  secrets: SecretBox;
  logger?: Logger;
  /** Sends one delivery: `createWebhookSender(policy)`, which refuses private targets unless allowed. */
  send: WebhookSender;
}

/**
 * Sends the deliveries that are due on the injected clock, records each outcome, and
 * schedules retries with exponential backoff. Runs never overlap: a run asked for while
 * one is in progress starts after it.
 */
export function createWebhookDispatcher(deps: WebhookDispatcherDeps) {
  const { send } = deps;
  const aborter = new AbortController();
  let chain: Promise<unknown> = Promise.resolve();

  const secretOf = (delivery: DueDelivery): string | null => {
    try {
      return revealWebhookSecret(deps.secrets, delivery.secret);
    } catch {
      return null;
    }
  };

  const attempt = async (delivery: DueDelivery): Promise<boolean> => {
    const timestamp = deps.clock.now();
    const secret = secretOf(delivery);
    const outcome: SendOutcome =
      secret === null
        ? { ok: false, error: 'the stored webhook secret cannot be decrypted' }
        : await send(
            delivery.url,
            delivery.payload,
            {
              [SIGNATURE_HEADER]: signWebhookBody(secret, delivery.payload),
              [TIMESTAMP_HEADER]: String(timestamp),
              [DELIVERY_HEADER]: delivery.id,
            },
            aborter.signal,
          );
    // Stopped while sending: leave the delivery as it was, to be sent after the next start.
    if (!outcome.ok && aborter.signal.aborted) return false;
    const now = deps.clock.now();
    const attempts = delivery.attempts + 1;
    await deps.transactor.run(async (trx) => {
      const update = trx
        .updateTable('webhook_deliveries')
        .where('id', '=', delivery.id)
        .where('status', '=', 'pending');
      if (outcome.ok) {
        await update
          .set({ attempts, status: 'delivered', delivered_at: now, next_attempt_at: null, last_error: null })
          .execute();
      } else if (attempts >= MAX_ATTEMPTS) {
        await update.set({ attempts, status: 'failed', next_attempt_at: null, last_error: outcome.error }).execute();
      } else {
        await update
          .set({ attempts, next_attempt_at: now + retryDelayMs(attempts), last_error: outcome.error })
          .execute();
      }
    });
    if (!outcome.ok) {
      deps.logger?.warn(
        { deliveryId: delivery.id, webhookId: delivery.webhook_id, attempts, error: outcome.error },
        'Webhook delivery failed',
      );
    }
    return outcome.ok;
  };

  const runDue = async (): Promise<{ delivered: number; failed: number }> => {
    let delivered = 0;
    let failed = 0;
    for (;;) {
      if (aborter.signal.aborted) break;
      const due = await readDueDeliveries(deps.db, deps.clock.now(), BATCH);
      if (due.length === 0) break;
      const results = await Promise.all(due.map(attempt));
      delivered += results.filter(Boolean).length;
      failed += results.filter((ok) => !ok).length;
      if (due.length < BATCH) break;
    }
    return { delivered, failed };
  };

  return {
    /** Sends every delivery due now (each once per run). */
    runDue(): Promise<{ delivered: number; failed: number }> {
      const run = chain.then(runDue, runDue);
      chain = run.catch(() => undefined);
      return run;
    },
    /** Aborts requests in flight and waits for the current run. */
    async stop(): Promise<void> {
      aborter.abort();
      await chain;
    },
  };
}

export type WebhookDispatcher = ReturnType<typeof createWebhookDispatcher>;
