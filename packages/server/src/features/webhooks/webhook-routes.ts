import type { FastifyInstance } from 'fastify';
import { actorOf } from '../../http/route-access.js';
import { adminRoute } from '../../http/route-config.js';
import { parseInput } from '../../validation.js';
import { byAccount, place, placeLookup, target } from '../access/route-targets.js';
import { AddWebhookBody, DeliveriesQuery } from './webhook-schemas.js';
import type { WebhookService } from './webhook-service.js';

/** The Smart Account of the webhook `:webhookId`. */
const byWebhook = placeLookup('webhookId', 'Webhook', async (db, id) => {
  const row = await db.selectFrom('webhooks').select('account_id').where('id', '=', id).executeTakeFirst();
  return row && place(row.account_id);
});

/** Admin routes of webhooks (SPEC §9 Notifications). */
export function registerWebhookRoutes(app: FastifyInstance, webhooks: WebhookService): void {
  app.post<{ Params: { accountId: string } }>(
    '/api/v1/accounts/:accountId/webhooks',
    {
      config: adminRoute('admin', target.account(byAccount()), {
        summary: 'Add a webhook (answer shows its secret once)',
        body: AddWebhookBody,
        status: 201,
      }),
    },
    async (request, reply) => {
      const body = parseInput(AddWebhookBody, request.body);
      return reply.code(201).send(await webhooks.addWebhook(request.params.accountId, body, actorOf(request)));
    },
  );

  app.get<{ Params: { accountId: string } }>(
    '/api/v1/accounts/:accountId/webhooks',
    { config: adminRoute('read', target.account(byAccount()), { summary: "List a Smart Account's webhooks" }) },
    async (request) => webhooks.listWebhooks(request.params.accountId),
  );

  app.delete<{ Params: { webhookId: string } }>(
    '/api/v1/webhooks/:webhookId',
    { config: adminRoute('admin', target.account(byWebhook), { summary: 'Remove a webhook', status: 204 }) },
    async (request, reply) => {
      await webhooks.removeWebhook(request.params.webhookId, actorOf(request));
      return reply.code(204).send();
    },
  );

  app.post<{ Params: { webhookId: string } }>(
    '/api/v1/webhooks/:webhookId/test',
    // Admin only: a test fire sends a request from the server on demand.
    {
      config: adminRoute('admin', target.account(byWebhook), {
        summary: 'Queue a test delivery to a webhook',
        status: 202,
      }),
    },
    async (request, reply) => reply.code(202).send(await webhooks.testWebhook(request.params.webhookId)),
  );

  app.get<{ Params: { webhookId: string }; Querystring: unknown }>(
    '/api/v1/webhooks/:webhookId/deliveries',
    {
      config: adminRoute('read', target.account(byWebhook), {
        summary: "A webhook's recent deliveries, newest first (errors in detail for account admins only)",
        query: DeliveriesQuery,
      }),
    },
    async (request) => {
      const query = parseInput(DeliveriesQuery, request.query);
      const viewer = request.principal ?? { owner: false, userId: null, grants: [] };
      return webhooks.listDeliveries(request.params.webhookId, query.limit, viewer);
    },
  );
}
