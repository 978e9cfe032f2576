import { randomBytes, randomUUID } from 'node:crypto';
import { type Clock, SmartlicError } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import type { SecretBox } from '../../crypto/secret-box.js';
import { notFound } from '../../errors.js';
import type { Database, WebhookDeliveryRow, WebhookRow } from '../../storage/schema.js';
import type { Transactor } from '../../storage/transactor.js';
import { toIso } from '../../util/time.js';
import { type AccessSubject, effectiveRole } from '../access/access-policy.js';
import { findAccount } from '../accounts/account-store.js';
import { type Actor, recordEvent } from '../events/event-recorder.js';
import { dayStart } from './daily-summary.js';
import { TEST_EVENT_TYPE } from './webhook-events.js';
import type { AddWebhookInput } from './webhook-schemas.js';
import {
  disableWebhook,
  findWebhook,
  insertWebhook,
  listDeliveries,
  listWebhooks,
  queueDeliveries,
} from './webhook-store.js';
import { redactUrlCredentials, webhookUrlRefusal } from './webhook-target.js';

/** A webhook as listed (never with its secret; credentials in old URLs shown as `***@`). */
export interface WebhookView {
  id: string;
  accountId: string;
  url: string;
  events: string[];
  createdAt: string;
}

export interface DeliveryView {
  id: string;
  webhookId: string;
  eventType: string;
  status: WebhookDeliveryRow['status'];
  attempts: number;
  createdAt: string;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  /** In detail (HTTP status, network error, refused address) for admins of the account; otherwise {@link COARSE_DELIVERY_ERROR}. */
  lastError: string | null;
  payload: unknown;
}

/**
 * What a delivery's error says to someone who is not an admin of the account: whether it was
 * refused, timed out, or answered some status would let anyone who can read deliveries
 * probe the server's network through a webhook.
 */
export const COARSE_DELIVERY_ERROR = 'delivery failed';

export interface WebhookServiceDeps {
  db: Kysely<Database>;
  transactor: Transactor;
  clock: Clock;
  /** Encrypts secrets for storage (see webhook-secrets.ts). */
  secrets: SecretBox;
  /** `smartlic server --webhook-allow-private`: URLs to loopback, private… addresses may be added. */
  allowPrivate: boolean;
}

/** Webhooks of Smart Accounts and their deliveries. */
export function createWebhookService({ db, transactor, clock, secrets, allowPrivate }: WebhookServiceDeps) {
  return {
    /**
     * Adds a webhook; the answer carries its secret (the only time it is shown). A URL with
     * credentials, or (unless allowed) to a non-public address or `localhost`, is refused.
     */
    async addWebhook(
      accountId: string,
      input: AddWebhookInput,
      actor: Actor,
    ): Promise<WebhookView & { secret: string }> {
      const refusal = webhookUrlRefusal(input.url, allowPrivate);
      if (refusal !== null) {
        throw new SmartlicError('BAD_REQUEST', { message: refusal, context: { fields: { url: [refusal] } } });
      }
      const now = clock.now();
      const secret = input.secret ?? `whsec_${randomBytes(32).toString('base64url')}`;
      const row: WebhookRow = {
        id: randomUUID(),
        account_id: accountId,
        url: input.url,
        secret: secrets.seal(secret),
        events: JSON.stringify([...new Set(input.events)]),
        created_at: now,
        disabled: 0,
      };
      await transactor.run(async (trx) => {
        if (!(await findAccount(trx, accountId))) throw notFound('Smart account', accountId);
        await insertWebhook(trx, row);
        // The account's first daily summary covers the day the webhook was added.
        await trx
          .insertInto('webhook_summaries')
          .values({ account_id: accountId, last_until: dayStart(now) })
          .onConflict((oc) => oc.column('account_id').doNothing())
          .execute();
        await recordEvent(trx, {
          at: now,
          actor,
          type: 'webhook.added',
          accountId,
          detail: { webhookId: row.id, url: row.url },
        });
      });
      return { ...webhookView(row), secret };
    },

    async listWebhooks(accountId: string): Promise<WebhookView[]> {
      if (!(await findAccount(db, accountId))) throw notFound('Smart account', accountId);
      return (await listWebhooks(db, accountId)).map(webhookView);
    },

    /** Removes a webhook; its pending deliveries are dropped ('failed'), its history stays. */
    async removeWebhook(webhookId: string, actor: Actor): Promise<void> {
      const now = clock.now();
      await transactor.run(async (trx) => {
        const hook = await findWebhook(trx, webhookId);
        if (!hook) throw notFound('Webhook', webhookId);
        await disableWebhook(trx, webhookId);
        await recordEvent(trx, {
          at: now,
          actor,
          type: 'webhook.removed',
          accountId: hook.account_id,
          detail: { webhookId, url: redactUrlCredentials(hook.url) },
        });
      });
    },

    /** Queues a `webhook.test` delivery to this webhook only. */
    async testWebhook(webhookId: string): Promise<DeliveryView> {
      const now = clock.now();
      const id = await transactor.run(async (trx) => {
        const hook = await findWebhook(trx, webhookId);
        if (!hook) throw notFound('Webhook', webhookId);
        let deliveryId = '';
        await queueDeliveries(
          trx,
          {
            accountId: hook.account_id,
            type: TEST_EVENT_TYPE,
            at: now,
            payload: (id) => {
              deliveryId = id;
              return { id, type: TEST_EVENT_TYPE, at: toIso(now), accountId: hook.account_id, webhookId };
            },
          },
          webhookId,
        );
        return deliveryId;
      });
      const row = await db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      return deliveryView(row);
    },

    /**
     * The most recent deliveries of a webhook (removed ones included), newest first; errors
     * in detail only for the owner and admins of the webhook's account.
     */
    async listDeliveries(webhookId: string, limit: number, viewer: AccessSubject): Promise<DeliveryView[]> {
      const hook = await db.selectFrom('webhooks').select('account_id').where('id', '=', webhookId).executeTakeFirst();
      if (!hook) throw notFound('Webhook', webhookId);
      const detailed = viewer.owner || effectiveRole(viewer, hook.account_id, null) === 'admin';
      return (await listDeliveries(db, webhookId, limit)).map((row) => {
        const view = deliveryView(row);
        return detailed || view.lastError === null ? view : { ...view, lastError: COARSE_DELIVERY_ERROR };
      });
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;

function webhookView(row: WebhookRow): WebhookView {
  return {
    id: row.id,
    accountId: row.account_id,
    url: redactUrlCredentials(row.url),
    events: JSON.parse(row.events) as string[],
    createdAt: toIso(Number(row.created_at)),
  };
}

function deliveryView(row: WebhookDeliveryRow): DeliveryView {
  const time = (ms: number | null) => toIso(ms === null ? null : Number(ms));
  return {
    id: row.id,
    webhookId: row.webhook_id,
    eventType: row.event_type,
    status: row.status,
    attempts: row.attempts,
    createdAt: toIso(Number(row.created_at)),
    nextAttemptAt: time(row.next_attempt_at),
    deliveredAt: time(row.delivered_at),
    lastError: row.last_error,
    payload: JSON.parse(row.payload) as unknown,
  };
}
