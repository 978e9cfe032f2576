import type { DeliveryView, WebhookService, WebhookView } from '@smartlic/server';
import { Command } from 'commander';
import { type AdminConnection, adminRequest } from '../../admin-client.js';
import { print, table } from '../../output.js';

type AddedWebhook = Awaited<ReturnType<WebhookService['addWebhook']>>;

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `admin webhook add|list|remove|test|deliveries`: notifications of a Smart Account. */
export function webhookCommands(connect: () => AdminConnection): Command {
  const webhook = new Command('webhook').description(
    'webhooks of a Smart Account (alerts and the daily event summary)',
  );
  webhook
    .command('add')
    .description('add a webhook; prints its signing secret once')
    .requiredOption('--account <id>', 'Smart Account id')
    .requiredOption('--url <url>', 'http(s) URL the deliveries are POSTed to')
    .option('--secret <secret>', 'signing secret (default: a random one)')
    .option(
      '--event <type>',
      'deliver only this event type (repeatable); default: all alerts and summary.daily',
      collect,
    )
    .option('--json', 'print JSON')
    .action(async (opts: { account: string; url: string; secret?: string; event?: string[]; json?: boolean }) => {
      const created = await adminRequest<AddedWebhook>(
        connect(),
        'POST',
        `/api/v1/accounts/${encodeURIComponent(opts.account)}/webhooks`,
        {
          url: opts.url,
          ...(opts.secret ? { secret: opts.secret } : {}),
          ...(opts.event ? { events: opts.event } : {}),
        },
      );
      print(created, opts, (w) => `Added webhook ${w.id} → ${w.url}\nSigning secret (shown once): ${w.secret}`);
    });
  webhook
    .command('list')
    .description("a Smart Account's webhooks")
    .requiredOption('--account <id>', 'Smart Account id')
    .option('--json', 'print JSON')
    .action(async (opts: { account: string; json?: boolean }) => {
      const hooks = await adminRequest<WebhookView[]>(
        connect(),
        'GET',
        `/api/v1/accounts/${encodeURIComponent(opts.account)}/webhooks`,
      );
      print(hooks, opts, (list) =>
        list.length === 0
          ? 'No webhooks in this Smart Account.'
          : table(
              ['ID', 'URL', 'EVENTS', 'CREATED'],
              list.map((w) => [w.id, w.url, w.events.length === 0 ? 'all' : w.events.join(', '), w.createdAt]),
            ),
      );
    });
  webhook
    .command('remove')
    .description('remove a webhook (pending deliveries are dropped)')
    .argument('<webhookId>')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      await adminRequest(connect(), 'DELETE', `/api/v1/webhooks/${encodeURIComponent(id)}`);
      print({ id, removed: true }, opts, () => `Removed webhook ${id}`);
    });
  webhook
    .command('test')
    .description('queue a test delivery')
    .argument('<webhookId>')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const delivery = await adminRequest<DeliveryView>(
        connect(),
        'POST',
        `/api/v1/webhooks/${encodeURIComponent(id)}/test`,
      );
      print(delivery, opts, (d) => `Queued test delivery ${d.id}`);
    });
  webhook
    .command('deliveries')
    .description("a webhook's recent deliveries, newest first")
    .argument('<webhookId>')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const rows = await adminRequest<DeliveryView[]>(
        connect(),
        'GET',
        `/api/v1/webhooks/${encodeURIComponent(id)}/deliveries`,
      );
      print(rows, opts, (list) =>
        list.length === 0
          ? 'No deliveries yet.'
          : table(
              ['ID', 'EVENT', 'STATUS', 'ATTEMPTS', 'NEXT ATTEMPT', 'DELIVERED', 'LAST ERROR'],
              list.map((d) => [
                d.id,
                d.eventType,
                d.status,
                d.attempts,
                d.nextAttemptAt ?? '',
                d.deliveredAt ?? '',
                d.lastError ?? '',
              ]),
            ),
      );
    });
  return webhook;
}
