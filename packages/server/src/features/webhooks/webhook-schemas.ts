import { z } from 'zod';
import { WEBHOOK_EVENT_TYPES } from './webhook-events.js';

/** `POST /accounts/:accountId/webhooks`. */
export const AddWebhookBody = z.object({
  url: z
    .url({ protocol: /^https?$/, message: 'must be an http or https URL' })
    .max(2048, 'must be at most 2048 characters'),
  /** Default: a random secret, shown once in the answer. */
  secret: z.string().min(16, 'must be at least 16 characters').max(256).optional(),
  /** Event types to deliver; default (or empty): all alerts and the daily summary. */
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES)).max(WEBHOOK_EVENT_TYPES.length).default([]),
});
export type AddWebhookInput = z.output<typeof AddWebhookBody>;

/** `GET /webhooks/:webhookId/deliveries?limit=N`. */
export const DeliveriesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
