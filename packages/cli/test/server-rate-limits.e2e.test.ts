import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type ServerProcess, startServerProcess, tempDir } from './harness.js';

describe('smartlic server rate-limit flags', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let server: ServerProcess | undefined;
  beforeAll(async () => {
    dir = await tempDir();
  });
  afterAll(async () => {
    await server?.stop();
    await dir.cleanup();
  });

  it('refuses a bad limit, and a limit together with --rate-limit off, in one sentence', async () => {
    const data = join(dir.path, 'refused');
    const zero = await runCli(['server', '--data', data, '--port', '0', '--rate-limit-register', '0']);
    expect(zero.code).not.toBe(0);
    expect(zero.stderr.trim()).toBe('smartlic: --rate-limit-register must be at least 1.');
    const both = await runCli([
      'server',
      '--data',
      data,
      '--port',
      '0',
      '--rate-limit',
      'off',
      '--rate-limit-admin',
      '5',
    ]);
    expect(both.code).not.toBe(0);
    expect(both.stderr.trim()).toBe('smartlic: --rate-limit off cannot be combined with a --rate-limit-* limit.');
    const word = await runCli(['server', '--data', data, '--port', '0', '--rate-limit', 'maybe']);
    expect(word.stderr.trim()).toBe('smartlic: --rate-limit must be on or off, not "maybe".');
    const delay = await runCli(['server', '--data', data, '--port', '0', '--job-start-delay', 'soon']);
    expect(delay.code).not.toBe(0);
    expect(delay.stderr.trim()).toBe('smartlic: --job-start-delay must be a whole number, not "soon".');
  });

  it('applies --rate-limit-auth-failures: wrong keys are refused, then the address waits', async () => {
    server = await startServerProcess(join(dir.path, 'data'), {}, 0, ['--rate-limit-auth-failures', '2']);
    const env = { SMARTLIC_SERVER: server.url, SMARTLIC_API_KEY: 'sk_not_a_key' };
    for (let i = 0; i < 2; i++) {
      const wrong = await runCli(['admin', 'account', 'list'], env);
      expect(wrong.code).not.toBe(0);
      expect(wrong.stderr).toMatch(/This API key is not valid/);
    }
    const limited = await runCli(['admin', 'account', 'list'], env);
    expect(limited.code).not.toBe(0);
    expect(limited.stderr).toMatch(/Too many requests from this client: wait \d+ seconds, then try again\./);
    // Even the right key waits, from this address, until the window ends.
    const right = await runCli(['admin', 'account', 'list'], { ...env, SMARTLIC_API_KEY: server.apiKey });
    expect(right.stderr).toMatch(/Too many requests/);
  });
});
