import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../server/src/test-support/admin-client.js';
import { cliJson, runCli, type ServerProcess, startServerProcess, tempDir } from './harness.js';

describe('registration tokens refused by the CLI with distinct messages, creating nothing', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let server: ServerProcess;
  let vaId: string;

  const admin = (args: string[]) => ['admin', '--server', server.url, '--api-key', server.apiKey, ...args];
  const device = (name: string, args: string[], env: Record<string, string> = {}) =>
    runCli(['device', '--state', join(dir.path, name), ...args], env);
  const instanceCount = async () => (await cliJson<unknown[]>(admin(['instance', 'list', '--va', vaId]))).length;
  const tokenUses = async (id: string) =>
    (await cliJson<{ id: string; uses: number }[]>(admin(['token', 'list', '--va', vaId]))).find((t) => t.id === id)
      ?.uses;

  async function tryRegister(name: string, token: string, env: Record<string, string> = {}) {
    await device(name, ['init', '--pid', 'CUSP', '--sn', name], env);
    await device(name, ['call-home', 'destination', server.url, '--root', server.rootCaPath], env);
    return device(name, ['license', 'smart', 'register', 'idtoken', token], env);
  }

  beforeAll(async () => {
    dir = await tempDir();
    server = await startServerProcess(join(dir.path, 'data'));
    // The set-up through the REST API: the CLI's account and VA commands have tests of their own.
    const api = new AdminClient(server.url, server.apiKey);
    const account = await api.createAccount('Tokens Inc');
    vaId = (await api.createVa(account.id, 'Default')).id;
  });

  afterAll(async () => {
    await server?.stop();
    await dir?.cleanup();
  });

  it('a token that does not exist', async () => {
    const out = await tryRegister('wrong', 'no-such-token-at-all');
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/The ID token is not valid: no such token exists\./);
    expect(await instanceCount()).toBe(0);
  });

  it('a revoked token', async () => {
    const t = await cliJson<{ id: string; token: string }>(admin(['token', 'create', '--va', vaId]));
    expect((await runCli(admin(['token', 'revoke', t.id]))).code).toBe(0);
    const out = await tryRegister('revoked', t.token);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/The ID token has been revoked\./);
    expect(await instanceCount()).toBe(0);
    expect(await tokenUses(t.id)).toBe(0);
  });

  it('a token past its maximum number of uses', async () => {
    const t = await cliJson<{ id: string; token: string }>(admin(['token', 'create', '--va', vaId, '--max-uses', '1']));
    expect((await tryRegister('first', t.token)).code).toBe(0);
    const out = await tryRegister('second', t.token);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/The ID token has reached its maximum number of uses\./);
    expect(await instanceCount()).toBe(1);
    expect(await tokenUses(t.id)).toBe(1);
  });

  it('a token past its expiry, with the simulated clock', async () => {
    const t = await cliJson<{ id: string; token: string }>(admin(['token', 'create', '--va', vaId, '--days', '1']));
    const later = { SMARTLIC_DEV_CLOCK: '1', SMARTLIC_CLOCK_OFFSET: '2d' };
    await server.stop();
    server = await startServerProcess(server.dataDir, later);
    const out = await tryRegister('late', t.token, later);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/The ID token has expired\./);
    expect(await instanceCount()).toBe(1);
    expect(await tokenUses(t.id)).toBe(0);
    const listed = await cliJson<{ id: string; status: string }[]>(admin(['token', 'list', '--va', vaId]));
    expect(listed.find((x) => x.id === t.id)?.status).toBe('EXPIRED');
  });

  it('refuses simulated time without SMARTLIC_DEV_CLOCK=1', async () => {
    const out = await device('x', ['show', 'license', 'status'], { SMARTLIC_CLOCK_OFFSET: '1d' });
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/SMARTLIC_DEV_CLOCK=1/);
  });
});
