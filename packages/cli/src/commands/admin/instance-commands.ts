import type { InstancePage, InstanceService, InstanceView } from '@smartlic/server';
import { Command } from 'commander';
import { type AdminConnection, adminRequest } from '../../admin-client.js';
import { parseInteger, print, table, writeText } from '../../output.js';

type RemovedInstance = Awaited<ReturnType<InstanceService['removeInstance']>>;
type TransferredInstance = Awaited<ReturnType<InstanceService['transferInstance']>>;

/** `admin instance list|remove|transfer`. */
export function instanceCommands(connect: () => AdminConnection): Command {
  const instance = new Command('instance').description('product instances');
  instance
    .command('list')
    .description('list the product instances of a Virtual Account')
    .requiredOption('--va <id>', 'Virtual Account id')
    .option('--search <text>', 'only instances whose id, PID, SN or hostname contains TEXT')
    .option('--limit <n>', 'at most N instances (a page)')
    .option('--cursor <cursor>', 'continue after the previous page (its "More: --cursor" value)')
    .option('--json', 'print JSON')
    .action(async (opts: { va: string; search?: string; limit?: string; cursor?: string; json?: boolean }) => {
      const query = new URLSearchParams();
      if (opts.search) query.set('search', opts.search);
      if (opts.limit) query.set('limit', String(parseInteger(opts.limit, '--limit', 1)));
      if (opts.cursor) query.set('cursor', opts.cursor);
      const answer = await adminRequest<InstanceView[] | InstancePage>(
        connect(),
        'GET',
        `/api/v1/virtual-accounts/${encodeURIComponent(opts.va)}/instances${query.size > 0 ? `?${query}` : ''}`,
      );
      const rows = Array.isArray(answer) ? answer : answer.items;
      // As `event list`: with more pages the text ends with the cursor of the next (on stderr with --json).
      const more = !Array.isArray(answer) && answer.nextCursor ? `More: --cursor ${answer.nextCursor}` : '';
      print(rows, opts, (list) => {
        if (list.length === 0) return 'No product instances in this Virtual Account.';
        const text = table(
          ['ID', 'UDI', 'HOSTNAME', 'LAST CONTACT', 'USAGE', 'STATUS', 'ALERTS'],
          list.map((i) => [
            i.id,
            `PID:${i.pid} SN:${i.sn}`,
            i.hostname ?? '',
            i.lastContact,
            i.usage.map((u) => `${u.tag}×${u.count}`).join(', '),
            i.status,
            i.alerts.join(', '),
          ]),
        );
        return more ? `${text}\n${more}` : text;
      });
      if (opts.json && more) writeText(process.stderr, `${more}\n`);
    });
  instance
    .command('remove')
    .description('remove a product instance (its usage goes back to the pool)')
    .argument('<instanceId>', 'product instance id')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const removed = await adminRequest<RemovedInstance>(
        connect(),
        'DELETE',
        `/api/v1/instances/${encodeURIComponent(id)}`,
      );
      print(removed, opts, (r) => `Removed ${r.id}`);
    });
  instance
    .command('transfer')
    .description('move a product instance and its usage to another Virtual Account of the same Smart Account')
    .argument('<instanceId>', 'product instance id')
    .requiredOption('--to <id>', 'destination Virtual Account id')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { to: string; json?: boolean }) => {
      const moved = await adminRequest<TransferredInstance>(
        connect(),
        'POST',
        `/api/v1/instances/${encodeURIComponent(id)}/transfer`,
        { toVaId: opts.to },
      );
      print(moved, opts, (m) => `Moved ${m.id} to ${m.toVaId}`);
    });
  return instance;
}
