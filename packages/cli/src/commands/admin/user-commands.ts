import type { ApiKeyCreated, ApiKeyView, UserCreated, UserView } from '@smartlic/server';
import { Command, Option } from 'commander';
import { type AdminConnection, adminRequest } from '../../admin-client.js';
import { CliError, print, table } from '../../output.js';

/** `admin user create|list` and `admin user key create|list|revoke`. */
export function userCommands(connect: () => AdminConnection): Command {
  const user = new Command('user').description('users, their roles and API keys');
  user
    .command('create <email>')
    .description('create a user (or grant an existing one a role) and print a new API key, shown once')
    .requiredOption('--account <id>', 'Smart Account id')
    .addOption(
      new Option('--role <role>', 'role on the account, or on the VA with --va')
        .choices(['admin', 'user', 'viewer'])
        .makeOptionMandatory(),
    )
    .option('--va <id>', 'grant the role on this Virtual Account only')
    .option('--json', 'print JSON: {id, apiKey}')
    .action(async (email: string, opts: { account: string; role: string; va?: string; json?: boolean }) => {
      const created = await adminRequest<UserCreated>(connect(), 'POST', '/api/v1/users', {
        email,
        accountId: opts.account,
        role: opts.role,
        ...(opts.va ? { vaId: opts.va } : {}),
      });
      print({ id: created.id, apiKey: created.apiKey }, opts, () =>
        [
          `${created.created ? 'User created' : 'Role granted to existing user'}: ${created.email} (id ${created.id}), role ${opts.role} on ${opts.va ? `Virtual Account ${opts.va}` : `Smart Account ${opts.account}`}.`,
          `API key (shown once, store it now): ${created.apiKey}`,
        ].join('\n'),
      );
    });
  user
    .command('list')
    .description('list the users with a role in a Smart Account')
    .requiredOption('--account <id>', 'Smart Account id')
    .option('--json', 'print JSON')
    .action(async (opts: { account: string; json?: boolean }) => {
      const users = await adminRequest<UserView[]>(
        connect(),
        'GET',
        `/api/v1/accounts/${encodeURIComponent(opts.account)}/users`,
      );
      print(users, opts, (rows) =>
        table(
          ['ID', 'EMAIL', 'ROLES'],
          rows.map((u) => [
            u.id,
            u.email,
            u.roles.map((r) => `${r.role}${r.vaId ? `@va:${r.vaId}` : '@account'}`).join(', '),
          ]),
        ),
      );
    });

  const key = user.command('key').description("a user's API keys");
  key
    .command('create <userId>')
    .description('issue a new API key for a user (shown once)')
    .option('--name <name>', 'a name to recognise the key by')
    .option('--json', 'print JSON')
    .action(async (userId: string, opts: { name?: string; json?: boolean }) => {
      const made = await adminRequest<ApiKeyCreated>(
        connect(),
        'POST',
        `/api/v1/users/${encodeURIComponent(userId)}/api-keys`,
        opts.name ? { name: opts.name } : {},
      );
      print(made, opts, (k) => `API key ${k.id} created (shown once, store it now): ${k.apiKey}`);
    });
  key
    .command('list <userId>')
    .description("list a user's API keys (never the keys themselves)")
    .option('--json', 'print JSON')
    .action(async (userId: string, opts: { json?: boolean }) => {
      const keys = await adminRequest<ApiKeyView[]>(
        connect(),
        'GET',
        `/api/v1/users/${encodeURIComponent(userId)}/api-keys`,
      );
      print(keys, opts, (rows) =>
        table(
          ['ID', 'NAME', 'CREATED', 'LAST USED', 'REVOKED'],
          rows.map((k) => [k.id, k.name, k.createdAt, k.lastUsedAt ?? 'never', k.revokedAt ?? '']),
        ),
      );
    });
  key
    .command('revoke <keyId>')
    .description('revoke an API key')
    .option('--json', 'print JSON')
    .action(async (keyId: string, opts: { json?: boolean }) => {
      const revoked = await adminRequest<ApiKeyView>(
        connect(),
        'POST',
        `/api/v1/api-keys/${encodeURIComponent(keyId)}/revoke`,
      );
      if (!revoked.revokedAt) throw new CliError(`API key ${keyId} was not revoked.`);
      print(revoked, opts, (k) => `API key ${k.id} revoked.`);
    });
  return user;
}
