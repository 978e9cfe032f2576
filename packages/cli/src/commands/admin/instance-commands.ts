import { Command } from 'commander';
import { type AdminConnection, adminRequest } from '../../admin-client.js';
import { print, table } from '../../output.js';

interface Instance {
  id: string;
  pid: string;
  sn: string;
  hostname?: string | null;
  lastContact: string;
  usage: { tag: string; count: number }[];
  status: string;
}

/** `admin instance list`. */
export function instanceCommands(connect: () => AdminConnection): Command {
  const instance = new Command('instance').description('product instances');
  instance
    .command('list')
    .description('list the product instances of a Virtual Account')
    .requiredOption('--va <id>', 'Virtual Account id')
    .option('--json', 'print JSON')
    .action(async (opts: { va: string; json?: boolean }) => {
      const rows = await adminRequest<Instance[]>(
        connect(),
        'GET',
        `/api/v1/virtual-accounts/${encodeURIComponent(opts.va)}/instances`,
      );
      print(rows, opts, (list) =>
        list.length === 0
          ? 'No product instances in this Virtual Account.'
          : table(
              ['ID', 'UDI', 'HOSTNAME', 'LAST CONTACT', 'USAGE', 'STATUS'],
              list.map((i) => [
                i.id,
                `PID:${i.pid} SN:${i.sn}`,
                i.hostname ?? '',
                i.lastContact,
                i.usage.map((u) => `${u.tag}×${u.count}`).join(', '),
                i.status,
              ]),
            ),
      );
    });
  return instance;
}
