import type { ApiKeyCreated, ApiKeyView, PasswordSet, RoleRemoved, UserCreated, UserView } from '@smartlic/server';
import { Command, Option } from 'commander';
import { type AdminConnection, adminRequest } from '../../admin-client.js';
import { CliError, print, table } from '../../output.js';

/** `admin user create|list|remove-role` and `admin user key create|list|revoke`. */
export function userCommands(connect: () => AdminConnection): Command {
  const user = new Command('user').description('users, their roles and API keys');
  user
    .command('create <email>')
    .description(
      'grant a user a role (creating the user if new) and print a new API key, shown once, limited to the place you administer',
    )
    .requiredOption('--account <id>', 'Smart Account id')
    .addOption(
      new Option('--role <role>', 'role on the account, or on the VA with --va')
        .choices(['admin', 'user', 'viewer'])
        .makeOptionMandatory(),
    )
    .option('--va <id>', 'grant the role on this Virtual Account only')
    .option('--password-stdin', "read the user's portal password from stdin")
    .option('--json', 'print JSON: {id, apiKey}')
    .action(
      async (
        email: string,
        opts: { account: string; role: string; va?: string; passwordStdin?: boolean; json?: boolean },
      ) => {
        const password = opts.passwordStdin ? await readPassword() : undefined;
        const created = await adminRequest<UserCreated>(connect(), 'POST', '/api/v1/users', {
          email,
          accountId: opts.account,
          role: opts.role,
          ...(opts.va ? { vaId: opts.va } : {}),
          ...(password === undefined ? {} : { password }),
        });
        print({ id: created.id, apiKey: created.apiKey }, opts, () =>
          [
            `${created.created ? 'User added to the Smart Account' : 'Role granted'}: ${created.email} (id ${created.id}), role ${opts.role} on ${opts.va ? `Virtual Account ${opts.va}` : `Smart Account ${opts.account}`}.`,
            `API key (shown once, store it now): ${created.apiKey}`,
            ...(password === undefined
              ? []
              : [
                  'Portal password given: it is set when every role of the user lies where you administer (always for a new user); otherwise the user keeps their own.',
                ]),
          ].join('\n'),
        );
      },
    );
  user
    .command('set-password <user>')
    .description('set the portal password of a user (an e-mail address or id; "admin": the owner), read from stdin')
    .option('--password-stdin', 'read the password from stdin (the only way to give it)')
    .option('--json', 'print JSON: {userId, email, endedSessions}')
    .action(async (who: string, opts: { passwordStdin?: boolean; json?: boolean }) => {
      if (!opts.passwordStdin) {
        throw new CliError('Give the password on stdin with --password-stdin (never as an argument).');
      }
      const password = await readPassword();
      const set = await adminRequest<PasswordSet>(
        connect(),
        'POST',
        `/api/v1/users/${encodeURIComponent(who)}/password`,
        { password },
      );
      print(set, opts, (s) => `Portal password of ${s.email} set; their portal sessions were ended.`);
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
            u.roles
              .map((r) =>
                r.vaId ? `${r.role} on VA '${r.vaName ?? r.vaId}'` : `${r.role} on Smart Account '${r.accountName}'`,
              )
              .join(', '),
          ]),
        ),
      );
    });
  user
    .command('remove-role <user>')
    .description("remove a user's role on a Smart Account (or with --va on one VA); USER is an e-mail address or id")
    .requiredOption('--account <id>', 'Smart Account id')
    .option('--va <id>', 'the role on this Virtual Account (default: the role on the whole Smart Account)')
    .option('--json', 'print JSON: {userId, accountId, vaId, role, revokedKeys}')
    .action(async (who: string, opts: { account: string; va?: string; json?: boolean }) => {
      const connection = connect();
      const userId = who.includes('@') ? await userIdOf(connection, opts.account, who) : who;
      const query = new URLSearchParams({ accountId: opts.account, ...(opts.va ? { vaId: opts.va } : {}) });
      const removed = await adminRequest<RoleRemoved>(
        connection,
        'DELETE',
        `/api/v1/users/${encodeURIComponent(userId)}/roles?${query}`,
      );
      print(removed, opts, (r) =>
        [
          `Removed role ${r.role} of ${who} on ${r.vaId ? `Virtual Account ${r.vaId}` : `Smart Account ${r.accountId}`}.`,
          ...(r.revokedKeys > 0 ? [`Revoked ${r.revokedKeys} API key(s) that no longer carried any role.`] : []),
        ].join('\n'),
      );
    });

  const key = user.command('key').description("a user's API keys");
  key
    .command('create <userId>')
    .description('issue a new API key for a user (shown once)')
    .option('--name <name>', 'a name to recognise the key by')
    .option('--account <id>', 'limit the key to this Smart Account (needed when you administer several of the user’s)')
    .option('--va <id>', 'limit the key to this Virtual Account (with --account)')
    .option('--json', 'print JSON')
    .action(async (userId: string, opts: { name?: string; account?: string; va?: string; json?: boolean }) => {
      if (opts.va && !opts.account) throw new CliError('--va needs --account.');
      const made = await adminRequest<ApiKeyCreated>(
        connect(),
        'POST',
        `/api/v1/users/${encodeURIComponent(userId)}/api-keys`,
        {
          ...(opts.name ? { name: opts.name } : {}),
          ...(opts.account ? { accountId: opts.account } : {}),
          ...(opts.va ? { vaId: opts.va } : {}),
        },
      );
      print(
        made,
        opts,
        (k) => `API key ${k.id} created (${scopeText(k.scope)}; shown once, store it now): ${k.apiKey}`,
      );
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
          ['ID', 'NAME', 'SCOPE', 'CREATED', 'LAST USED', 'REVOKED'],
          rows.map((k) => [k.id, k.name, scopeText(k.scope), k.createdAt, k.lastUsedAt ?? 'never', k.revokedAt ?? '']),
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

/** How a key's scope reads in a table. */
function scopeText(scope: ApiKeyView['scope']): string {
  if (!scope) return 'all roles';
  return scope.vaId ? `VA ${scope.vaId}` : `Smart Account ${scope.accountId}`;
}

/** The id of the user of `email` among the users of a Smart Account (the CLI takes either). */
async function userIdOf(connection: AdminConnection, accountId: string, email: string): Promise<string> {
  const users = await adminRequest<UserView[]>(
    connection,
    'GET',
    `/api/v1/accounts/${encodeURIComponent(accountId)}/users`,
  );
  const found = users.find((u) => u.email === email.trim().toLowerCase());
  if (!found) throw new CliError(`${email} holds no role in Smart Account ${accountId}.`);
  return found.id;
}

/** A password from stdin: everything read, without the final line break. */
async function readPassword(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Password (then Enter and Ctrl-D): ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const password = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (password === '') throw new CliError('No password on stdin.');
  return password;
}
