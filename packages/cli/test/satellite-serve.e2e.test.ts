import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type ServerProcess, startServerProcess, tempDir } from './harness.js';

/** `smartlic server --mode satellite`, before its registration, driven through the built CLI. */
describe('a satellite server process', () => {
  let server: ServerProcess;
  let cleanup: () => Promise<void>;
  let env: Record<string, string>;

  beforeAll(async () => {
    const dir = await tempDir();
    cleanup = dir.cleanup;
    server = await startServerProcess(dir.path, {}, 0, [
      '--mode',
      'satellite',
      '--upstream',
      'https://licensing.example.com',
    ]);
    env = { SMARTLIC_SERVER: server.url, SMARTLIC_API_KEY: server.apiKey };
  });

  afterAll(async () => {
    await server?.stop();
    await cleanup?.();
  });

  it('says in its start message that it is a satellite, not registered yet, and how to register it', () => {
    const out = server.output();
    expect(out).toContain(
      `smartlic satellite listening on ${server.url} (not registered yet: devices are asked to try again)`,
    );
    expect(out).toContain('Upstream: https://licensing.example.com');
    expect(out).toContain('npx smartlic admin sync register --token TOKEN');
  });

  it('shows the one-sentence refusal of what only the authority does', async () => {
    const license = await runCli(
      ['admin', 'license', 'add', '--va', randomUUID(), '--tag', 'regid.2014-08.com.example.A', '--count', '5'],
      env,
    );
    expect(license.code).not.toBe(0);
    expect(license.stderr.trim()).toBe(
      'smartlic: This satellite cannot create licenses; add them at the authority (https://licensing.example.com) and synchronise.',
    );
    const account = await runCli(['admin', 'account', 'create', 'Acme', '--domain', 'acme.example'], env);
    expect(account.code).not.toBe(0);
    expect(account.stderr).toContain('This satellite cannot create Smart Accounts; create them at the authority');
  });
});
