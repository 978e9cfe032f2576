import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, WebhookDeliveryRow, WebhookRow } from '../../storage/schema.js';
import { webhookWants } from './webhook-events.js';

export async function insertWebhook(db: Kysely<Database>, row: WebhookRow): Promise<void> {
  await db.insertInto('webhooks').values(row).execute();
}

/** An active (not removed) webhook. */
export async function findWebhook(db: Kysely<Database>, id: string): Promise<WebhookRow | undefined> {
  return db.selectFrom('webhooks').selectAll().where('id', '=', id).where('disabled', '=', 0).executeTakeFirst();
}

export async function listWebhooks(db: Kysely<Database>, accountId: string): Promise<WebhookRow[]> {
  return db
    .selectFrom('webhooks')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('disabled', '=', 0)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/** Removes a webhook: kept (disabled) for its delivery history; pending deliveries fail. */
export async function disableWebhook(db: Kysely<Database>, id: string): Promise<void> {
  await db.updateTable('webhooks').set({ disabled: 1 }).where('id', '=', id).execute();
  await db
    .updateTable('webhook_deliveries')
    .set({ status: 'failed', last_error: 'webhook removed', next_attempt_at: null })
    .where('webhook_id', '=', id)
    .where('status', '=', 'pending')
    .execute();
}

/**
 * Queues `payload` (given its delivery id) for every active webhook of the account that
 * wants `type`; due at once. Returns the number queued.
 */
export async function queueDeliveries(
  db: Kysely<Database>,
  delivery: { accountId: string; type: string; at: number; payload: (deliveryId: string) => unknown },
  onlyWebhookId?: string,
): Promise<number> {
  let hooks = await listWebhooks(db, delivery.accountId);
  if (onlyWebhookId !== undefined) hooks = hooks.filter((h) => h.id === onlyWebhookId);
  const rows: WebhookDeliveryRow[] = hooks
    .filter((h) => webhookWants(h.events, delivery.type))
    .map((h) => {
      const id = randomUUID();
      return {
        id,
        webhook_id: h.id,
        event_type: delivery.type,
        payload: JSON.stringify(delivery.payload(id)),
        attempts: 0,
        created_at: delivery.at,
        next_attempt_at: delivery.at,
        status: 'pending',
        last_error: null,
        delivered_at: null,
      };
    });
  if (rows.length > 0) await db.insertInto('webhook_deliveries').values(rows).execute();
  return rows.length;
}

export async function listDeliveries(
  db: Kysely<Database>,
  webhookId: string,
  limit: number,
): Promise<WebhookDeliveryRow[]> {
  return db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('webhook_id', '=', webhookId)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** A pending delivery that is due, with where it goes. */
export interface DueDelivery {
  id: string;
  webhook_id: string;
  payload: string;
  attempts: number;
  url: string;
  /** As stored: encrypted (see webhook-secrets.ts). */
  secret: string;
}

export async function readDueDeliveries(db: Kysely<Database>, now: number, limit: number): Promise<DueDelivery[]> {
  return db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhooks as w', 'w.id', 'd.webhook_id')
    .select(['d.id', 'd.webhook_id', 'd.payload', 'd.attempts', 'w.url', 'w.secret'])
    .where('d.status', '=', 'pending')
    .where('d.next_attempt_at', '<=', now)
    .orderBy('d.next_attempt_at')
    .orderBy('d.id')
    .limit(limit)
    .execute();
}
