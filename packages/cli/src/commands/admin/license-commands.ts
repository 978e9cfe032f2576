import { Command } from 'commander';
import { type AdminConnection, adminRequest } from '../../admin-client.js';
import { CliError, parseInteger, print, table } from '../../output.js';

interface LicenseRow {
  tag: string;
  name?: string;
  quantity: number;
  inUse: number;
  surplus: number;
  alerts: string[];
}

const TYPES = ['perpetual', 'term', 'subscription'] as const;

/** Formats a surplus the way the portal shows it: +2, 0, −2. */
export function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}

/** `admin license add|list`. */
export function licenseCommands(connect: () => AdminConnection): Command {
  const license = new Command('license').description('license pools of a Virtual Account');
  license
    .command('add')
    .description('add a license pool to a Virtual Account')
    .requiredOption('--va <id>', 'Virtual Account id')
    .requiredOption('--tag <tag>', 'entitlement tag')
    .requiredOption('--count <n>', 'quantity')
    .option('--name <display>', 'display name')
    .option('--parent <tag>', 'parent (generic) tag')
    .option('--type <type>', 'perpetual, term or subscription', 'perpetual')
    .option('--ends <date>', 'expiration date (term and subscription)')
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        va: string;
        tag: string;
        count: string;
        name?: string;
        parent?: string;
        type: string;
        ends?: string;
        json?: boolean;
      }) => {
        if (!(TYPES as readonly string[]).includes(opts.type)) {
          throw new CliError(`--type must be one of ${TYPES.join(', ')}, not "${opts.type}".`);
        }
        if (opts.parent) throw new CliError('--parent (license hierarchy) is not implemented yet.', 2);
        let endsAt: string | undefined;
        if (opts.ends) {
          const t = Date.parse(opts.ends);
          if (Number.isNaN(t)) throw new CliError(`--ends must be a date such as 2027-12-31, not "${opts.ends}".`);
          endsAt = new Date(t).toISOString();
        }
        const pool = await adminRequest<{ id: string; tag: string; quantity: number }>(
          connect(),
          'POST',
          `/api/v1/virtual-accounts/${encodeURIComponent(opts.va)}/licenses`,
          {
            tag: opts.tag,
            count: parseInteger(opts.count, '--count', 1),
            type: opts.type,
            ...(opts.name ? { name: opts.name } : {}),
            ...(endsAt ? { endsAt } : {}),
          },
        );
        print(pool, opts, (p) => `Added ${p.quantity} of ${p.tag} (pool ${p.id})`);
      },
    );
  license
    .command('list')
    .description('licenses of a Virtual Account with quantity, in use and surplus')
    .requiredOption('--va <id>', 'Virtual Account id')
    .option('--json', 'print JSON')
    .action(async (opts: { va: string; json?: boolean }) => {
      const rows = await adminRequest<LicenseRow[]>(
        connect(),
        'GET',
        `/api/v1/virtual-accounts/${encodeURIComponent(opts.va)}/licenses`,
      );
      print(rows, opts, (list) =>
        list.length === 0
          ? 'No licenses in this Virtual Account.'
          : table(
              ['LICENSE', 'QUANTITY', 'IN USE', 'SURPLUS/SHORTAGE', 'ALERTS'],
              list.map((r) => [r.name ? `${r.name} (${r.tag})` : r.tag, r.quantity, r.inUse, signed(r.surplus), r.alerts.join(', ')]),
            ),
      );
    });
  return license;
}
