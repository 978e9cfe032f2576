import type { LicensePoolView, LicenseSummary, LicenseTransferResult } from '@smartlic/server';
import { Command } from 'commander';
import { type AdminConnection, adminRequest } from '../../admin-client.js';
import { CliError, parseInteger, print, table } from '../../output.js';

const TYPES = ['perpetual', 'term', 'subscription'] as const;

/** Formats a surplus the way the portal shows it: +2, 0, −2. */
export function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}

/** `admin license add|list|transfer`. */
export function licenseCommands(connect: () => AdminConnection): Command {
  const license = new Command('license').description('license pools of a Virtual Account');
  license
    .command('add')
    .description('add a license pool to a Virtual Account')
    .requiredOption('--va <id>', 'Virtual Account id')
    .requiredOption('--tag <tag>', 'entitlement tag')
    .requiredOption('--count <n>', 'quantity')
    .option('--name <display>', 'display name')
    .option('--parent <tag>', "parent (generic) tag: the tag's own if it has one; only an owner may define it")
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
        let endsAt: string | undefined;
        if (opts.ends) {
          const t = Date.parse(opts.ends);
          if (Number.isNaN(t)) throw new CliError(`--ends must be a date such as 2027-12-31, not "${opts.ends}".`);
          endsAt = new Date(t).toISOString();
        }
        // --parent goes with the pool, in one request and one transaction: the server accepts it
        // when the tag has that parent already, and lets only an owner define it otherwise.
        const pool = await adminRequest<LicensePoolView>(
          connect(),
          'POST',
          `/api/v1/virtual-accounts/${encodeURIComponent(opts.va)}/licenses`,
          {
            tag: opts.tag,
            count: parseInteger(opts.count, '--count', 1),
            type: opts.type,
            ...(opts.name ? { name: opts.name } : {}),
            ...(endsAt ? { endsAt } : {}),
            ...(opts.parent ? { parent: opts.parent } : {}),
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
      const rows = await adminRequest<LicenseSummary[]>(
        connect(),
        'GET',
        `/api/v1/virtual-accounts/${encodeURIComponent(opts.va)}/licenses`,
      );
      print(rows, opts, (list) =>
        list.length === 0
          ? 'No licenses in this Virtual Account.'
          : table(
              ['LICENSE', 'QUANTITY', 'IN USE', 'SURPLUS/SHORTAGE', 'ALERTS'],
              list.map((r) => [
                r.name && r.name !== r.tag ? `${r.name} (${r.tag})` : r.tag,
                r.quantity,
                r.inUse,
                signed(r.surplus),
                [...r.alerts, ...r.coveredBy.map((c) => `${c.count} covered by ${c.tag}`)].join(', '),
              ]),
            ),
      );
    });
  license
    .command('transfer')
    .description('move unused licenses of a tag to another Virtual Account of the same Smart Account')
    .requiredOption('--va <id>', 'source Virtual Account id')
    .requiredOption('--tag <tag>', 'entitlement tag')
    .requiredOption('--count <n>', 'how many')
    .requiredOption('--to <id>', 'destination Virtual Account id')
    .option('--json', 'print JSON')
    .action(async (opts: { va: string; tag: string; count: string; to: string; json?: boolean }) => {
      const result = await adminRequest<LicenseTransferResult>(
        connect(),
        'POST',
        `/api/v1/virtual-accounts/${encodeURIComponent(opts.va)}/licenses/transfer`,
        { tag: opts.tag, count: parseInteger(opts.count, '--count', 1), toVaId: opts.to },
      );
      print(result, opts, (r) => `Transferred ${r.count} of ${r.tag} to ${r.toVaId}`);
    });
  return license;
}
