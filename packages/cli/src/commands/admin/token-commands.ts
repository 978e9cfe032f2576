import type { CreatedTokenView, TokenView } from '@smartlic/server';
import { Command } from 'commander';
import { type AdminConnection, adminRequest } from '../../admin-client.js';
import { parseInteger, print, table } from '../../output.js';

/** `admin token create|list|revoke`. */
export function tokenCommands(connect: () => AdminConnection): Command {
  const token = new Command('token').description('product instance registration tokens');
  token
    .command('create')
    .description('create a registration token in a Virtual Account')
    .requiredOption('--va <id>', 'Virtual Account id')
    .option('--description <text>', 'what the token is for')
    .option('--days <n>', 'expire after N days (1–365)', '30')
    .option('--max-uses <n>', 'maximum number of uses (default: unlimited)')
    .option('--export-controlled', 'allow export-controlled functionality')
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        va: string;
        description?: string;
        days: string;
        maxUses?: string;
        exportControlled?: boolean;
        json?: boolean;
      }) => {
        const created = await adminRequest<CreatedTokenView>(
          connect(),
          'POST',
          `/api/v1/virtual-accounts/${encodeURIComponent(opts.va)}/tokens`,
          {
            days: parseInteger(opts.days, '--days', 1),
            exportControlled: Boolean(opts.exportControlled),
            ...(opts.description ? { description: opts.description } : {}),
            ...(opts.maxUses ? { maxUses: parseInteger(opts.maxUses, '--max-uses', 1) } : {}),
          },
        );
        print(
          created,
          opts,
          (t) => `${t.token}\n(token ${t.id}, expires ${t.expiresAt}, max uses ${t.maxUses ?? 'unlimited'})`,
        );
      },
    );
  token
    .command('list')
    .description('list the tokens of a Virtual Account')
    .requiredOption('--va <id>', 'Virtual Account id')
    .option('--json', 'print JSON')
    .action(async (opts: { va: string; json?: boolean }) => {
      const tokens = await adminRequest<TokenView[]>(
        connect(),
        'GET',
        `/api/v1/virtual-accounts/${encodeURIComponent(opts.va)}/tokens`,
      );
      print(tokens, opts, (rows) =>
        table(
          ['ID', 'STATUS', 'EXPIRES', 'USES', 'EXPORT-CONTROLLED', 'DESCRIPTION', 'TOKEN'],
          rows.map((t) => [
            t.id,
            t.status,
            t.expiresAt,
            `${t.uses}/${t.maxUses ?? '∞'}`,
            t.exportControlled ? 'Allowed' : 'Not Allowed',
            t.description,
            // Null for a viewer: only those who may create tokens see their values.
            t.token ?? t.tokenHint,
          ]),
        ),
      );
    });
  token
    .command('revoke <tokenId>')
    .description('revoke a token')
    .option('--json', 'print JSON')
    .action(async (tokenId: string, opts: { json?: boolean }) => {
      const revoked = await adminRequest<CreatedTokenView>(
        connect(),
        'POST',
        `/api/v1/tokens/${encodeURIComponent(tokenId)}/revoke`,
      );
      print(revoked, opts, (t) => `Token ${t.id} revoked.`);
    });
  return token;
}
