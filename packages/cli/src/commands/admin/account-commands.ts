import type { AccountView, VirtualAccountView } from '@smartlic/server';
import { Command } from 'commander';
import { type AdminConnection, adminRequest } from '../../admin-client.js';
import { print, table } from '../../output.js';

/** `admin account create|list`. */
export function accountCommand(connect: () => AdminConnection): Command {
  const account = new Command('account').description('Smart Accounts');
  account
    .command('create <name>')
    .description('create a Smart Account')
    .option('--domain <domain>', 'the account domain, e.g. example.com')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { domain?: string; json?: boolean }) => {
      const created = await adminRequest<AccountView>(connect(), 'POST', '/api/v1/accounts', {
        name,
        ...(opts.domain ? { domain: opts.domain } : {}),
      });
      print(created, opts, (a) => `Smart Account "${a.name}" created: id ${a.id}, domain ${a.domain}`);
    });
  account
    .command('list')
    .description('list Smart Accounts')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const accounts = await adminRequest<AccountView[]>(connect(), 'GET', '/api/v1/accounts');
      print(accounts, opts, (rows) =>
        table(
          ['ID', 'NAME', 'DOMAIN'],
          rows.map((a) => [a.id, a.name, a.domain]),
        ),
      );
    });
  return account;
}

/** `admin va create|list`. */
export function vaCommand(connect: () => AdminConnection): Command {
  const va = new Command('va').description('Virtual Accounts');
  va.command('create <name>')
    .description('create a Virtual Account in a Smart Account')
    .requiredOption('--account <id>', 'Smart Account id')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { account: string; json?: boolean }) => {
      const created = await adminRequest<VirtualAccountView>(
        connect(),
        'POST',
        `/api/v1/accounts/${encodeURIComponent(opts.account)}/virtual-accounts`,
        { name },
      );
      print(created, opts, (v) => `Virtual Account "${v.name}" created: id ${v.id}`);
    });
  va.command('list')
    .description('list the Virtual Accounts of a Smart Account')
    .requiredOption('--account <id>', 'Smart Account id')
    .option('--json', 'print JSON')
    .action(async (opts: { account: string; json?: boolean }) => {
      const vas = await adminRequest<VirtualAccountView[]>(
        connect(),
        'GET',
        `/api/v1/accounts/${encodeURIComponent(opts.account)}/virtual-accounts`,
      );
      print(vas, opts, (rows) =>
        table(
          ['ID', 'NAME'],
          rows.map((v) => [v.id, v.name]),
        ),
      );
    });
  return va;
}
