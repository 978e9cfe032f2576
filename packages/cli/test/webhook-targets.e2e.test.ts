import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliJson, runCli, type ServerProcess, startServerProcess, tempDir } from './harness.js';

describe('webhook targets through the CLI, without --webhook-allow-private', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let server: ServerProcess;
  let accountId: string;
  const admin = (args: string[]) => ['admin', '--server', server.url, '--api-key', server.apiKey, ...args];

  beforeAll(async () => {
    dir = await tempDir();
    server = await startServerProcess(join(dir.path, 'data'));
    accountId = (await cliJson<{ id: string }>(admin(['account', 'create', 'Guarded', '--domain', 'guarded.example'])))
      .id;
  });
  afterAll(async () => {
    await server?.stop();
    await dir?.cleanup();
  });

  it('refuses webhooks to this machine, the private network or cloud metadata, and URLs with credentials', async () => {
    for (const url of ['http://127.0.0.1:9/hook', 'http://192.168.1.10/hook', 'http://169.254.169.254/latest']) {
      const refused = await runCli(admin(['webhook', 'add', '--account', accountId, '--url', url]));
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(
        /webhooks may only reach public addresses unless the server runs with --webhook-allow-private/,
      );
    }
    const withCredentials = await runCli(
      admin(['webhook', 'add', '--account', accountId, '--url', 'https://bob:hunter22@hooks.example.com/x']),
    );
    expect(withCredentials.code).not.toBe(0);
    expect(withCredentials.stderr).toMatch(/must not carry credentials/);
    expect(withCredentials.stderr).not.toContain('hunter22');
    expect(await cliJson(admin(['webhook', 'list', '--account', accountId]))).toEqual([]);
  });
});
