import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliJson, runCli, type ServerProcess, startServerProcess, tempDir } from './harness.js';

/** SPEC §9's `user create` and `event list` as the contract gives them, and the key commands. */
describe('smartlic admin user and event', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let server: ServerProcess;
  let accountId: string;
  let vaId: string;

  const as = (key: string, args: string[]) => ['admin', '--server', server.url, '--api-key', key, ...args];
  const admin = (args: string[]) => as(server.apiKey, args);

  beforeAll(async () => {
    dir = await tempDir();
    server = await startServerProcess(join(dir.path, 'data'));
    accountId = (await cliJson<{ id: string }>(admin(['account', 'create', 'People Inc']))).id;
    vaId = (await cliJson<{ id: string }>(admin(['va', 'create', 'Lab', '--account', accountId]))).id;
  });

  afterAll(async () => {
    await server?.stop();
    await dir?.cleanup();
  });

  it('creates users whose keys carry their role: a viewer reads and is refused a change', async () => {
    const viewer = await cliJson<Record<string, string>>(
      admin(['user', 'create', 'viewer@people.example', '--account', accountId, '--role', 'viewer', '--va', vaId]),
    );
    expect(Object.keys(viewer).sort()).toEqual(['apiKey', 'id']);
    expect(viewer.apiKey).toMatch(/^slk_/);
    expect((await runCli(as(viewer.apiKey!, ['license', 'list', '--va', vaId]))).code).toBe(0);
    const refused = await runCli(as(viewer.apiKey!, ['token', 'create', '--va', vaId]));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/Your role viewer on Virtual Account 'Lab' does not allow changing tokens\./);

    const users = await cliJson<Array<{ email: string }>>(admin(['user', 'list', '--account', accountId]));
    expect(users.map((u) => u.email)).toEqual(['viewer@people.example']);

    const key = await cliJson<{ id: string; apiKey: string }>(
      admin(['user', 'key', 'create', viewer.id!, '--name', 'ci']),
    );
    expect((await runCli(admin(['user', 'key', 'revoke', key.id]))).code).toBe(0);
    const keys = await cliJson<Array<{ name: string; revokedAt: string | null }>>(
      admin(['user', 'key', 'list', viewer.id!]),
    );
    expect(keys.map((k) => [k.name, k.revokedAt !== null])).toEqual([
      ['viewer@people.example', false],
      ['ci', true],
    ]);

    const bad = await runCli(admin(['user', 'create', 'x@people.example', '--account', accountId, '--role', 'owner']));
    expect(bad.code).not.toBe(0);
  });

  it('lists the event log with who, what and when, and pages with a cursor', async () => {
    for (let i = 0; i < 3; i++) await cliJson(admin(['token', 'create', '--va', vaId, '--description', `t${i}`]));
    const events = await cliJson<Array<Record<string, unknown>>>(admin(['event', 'list', '--va', vaId]));
    expect(Object.keys(events[0]!).sort()).toEqual(['actor', 'at', 'detail', 'type']);
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['token.created', 'access.denied', 'user.created', 'va.created']),
    );
    expect(events.find((e) => e.type === 'access.denied')?.actor).toBe('user:viewer@people.example');

    const first = await runCli(admin(['event', 'list', '--va', vaId, '--type', 'token.created', '--limit', '2']));
    expect(first.code).toBe(0);
    const more = /More: --cursor (\S+)/.exec(first.stdout);
    expect(more, first.stdout).not.toBeNull();
    const rest = await cliJson<unknown[]>(
      admin(['event', 'list', '--va', vaId, '--type', 'token.created', '--limit', '2', '--cursor', more![1]!]),
    );
    expect(rest).toHaveLength(1);
    const since = await cliJson<unknown[]>(admin(['event', 'list', '--va', vaId, '--since', '2999-01-01']));
    expect(since).toEqual([]);
  });

  it('lists refusals of owner-only routes with --system, for the owner key only', async () => {
    const user = await cliJson<{ apiKey: string }>(
      admin(['user', 'create', 'admin@people.example', '--account', accountId, '--role', 'admin']),
    );
    const refused = await runCli(as(user.apiKey, ['account', 'create', 'Not Mine']));
    expect(refused.code).not.toBe(0);
    const system = await cliJson<Array<{ actor: string; type: string; detail: Record<string, unknown> }>>(
      admin(['event', 'list', '--system', '--type', 'access.denied']),
    );
    expect(system[0]).toMatchObject({
      actor: 'user:admin@people.example',
      type: 'access.denied',
      detail: { method: 'POST', route: '/api/v1/accounts', action: 'write' },
    });
    const all = await cliJson<Array<{ type: string }>>(admin(['event', 'list', '--all', '--limit', '500']));
    expect(all.map((e) => e.type)).toEqual(
      expect.arrayContaining(['access.denied', 'account.created', 'token.created']),
    );
    const mine = await runCli(as(user.apiKey, ['event', 'list', '--system']));
    expect(mine.code).not.toBe(0);
    expect(mine.stderr).toMatch(/Only the server's owner key allows reading the whole event log\./);
    const accountOnly = await cliJson<Array<{ detail: Record<string, unknown> }>>(
      as(user.apiKey, ['event', 'list', '--account', accountId, '--type', 'access.denied']),
    );
    expect(accountOnly.some((e) => e.detail.route === '/api/v1/accounts')).toBe(false);
    expect((await runCli(admin(['event', 'list', '--system', '--va', vaId]))).code).not.toBe(0);
  });

  it('lists roles with the place names, and removes a role by e-mail address', async () => {
    const lab = await cliJson<{ id: string; apiKey: string }>(
      admin(['user', 'create', 'lab-user@people.example', '--account', accountId, '--role', 'user', '--va', vaId]),
    );
    const listed = await runCli(admin(['user', 'list', '--account', accountId]));
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/lab-user@people\.example\s+user on VA 'Lab'/);
    expect(listed.stdout).toMatch(/viewer on VA 'Lab'/);
    expect((await runCli(as(lab.apiKey, ['token', 'create', '--va', vaId]))).code).toBe(0);

    const removed = await cliJson<Record<string, unknown>>(
      admin(['user', 'remove-role', 'lab-user@people.example', '--account', accountId, '--va', vaId]),
    );
    expect(removed).toMatchObject({ userId: lab.id, accountId, vaId, role: 'user' });
    const refused = await runCli(as(lab.apiKey, ['token', 'create', '--va', vaId]));
    expect(refused.code).not.toBe(0);
    const again = await runCli(admin(['user', 'remove-role', lab.id, '--account', accountId, '--va', vaId]));
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/holds no role on that place to remove/);
    const events = await cliJson<Array<{ type: string; detail: Record<string, unknown> }>>(
      admin(['event', 'list', '--va', vaId, '--type', 'user.role-removed']),
    );
    expect(events[0]?.detail).toMatchObject({ userId: lab.id, role: 'user' });
  });

  it('shows token values to those who may create tokens, and to a viewer only a hint', async () => {
    const created = await cliJson<{ id: string; token: string }>(admin(['token', 'create', '--va', vaId]));
    const viewer = await cliJson<{ apiKey: string }>(
      admin(['user', 'create', 'reader@people.example', '--account', accountId, '--role', 'viewer', '--va', vaId]),
    );
    const user = await cliJson<{ apiKey: string }>(
      admin(['user', 'create', 'doer@people.example', '--account', accountId, '--role', 'user', '--va', vaId]),
    );
    type Listed = { id: string; token: string | null; tokenHint: string };
    const mine = (rows: Listed[]) => rows.find((t) => t.id === created.id);
    expect(mine(await cliJson<Listed[]>(as(user.apiKey, ['token', 'list', '--va', vaId])))).toMatchObject({
      token: created.token,
    });
    const seen = mine(await cliJson<Listed[]>(as(viewer.apiKey, ['token', 'list', '--va', vaId])));
    expect(seen).toEqual(expect.objectContaining({ token: null, tokenHint: `…${created.token.slice(-4)}` }));
    const text = await runCli(as(viewer.apiKey, ['token', 'list', '--va', vaId]));
    expect(text.stdout).toContain(`…${created.token.slice(-4)}`);
    expect(text.stdout).not.toContain(created.token);
  });
});
