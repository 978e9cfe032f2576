import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliJson, runCli, type ServerProcess, startServerProcess, tempDir } from './harness.js';

describe('admin report forecast', () => {
  let server: ServerProcess;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let env: Record<string, string>;
  let vaId: string;

  beforeAll(async () => {
    dir = await tempDir();
    server = await startServerProcess(dir.path);
    env = { SMARTLIC_SERVER: server.url, SMARTLIC_API_KEY: server.apiKey };
    const account = await cliJson<{ id: string }>(['admin', 'account', 'create', 'Acme'], env);
    vaId = (await cliJson<{ id: string }>(['admin', 'va', 'create', 'Lab', '--account', account.id], env)).id;
    const added = await runCli(
      ['admin', 'license', 'add', '--va', vaId, '--tag', 'regid.router', '--count', '4', '--name', 'Router'],
      env,
    );
    expect(added.code, added.stderr).toBe(0);
  });
  afterAll(async () => {
    await server.stop();
    await dir.cleanup();
  });

  it('prints the forecast as JSON (the REST answer) and as a table', async () => {
    const rows = await cliJson<unknown[]>(['admin', 'report', 'forecast', '--va', vaId], env);
    expect(rows).toEqual([
      {
        tag: 'regid.router',
        name: 'Router',
        quantity: 4,
        inUse: 0,
        trendPerDay: 0,
        shortageDate: null,
        basis: '0 days of snapshots',
      },
    ]);
    const text = await runCli(['admin', 'report', 'forecast', '--va', vaId], env);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^LICENSE\s+QUANTITY\s+IN USE\s+TREND\/DAY\s+RUNS SHORT\s+BASIS\n/);
    expect(text.stdout).toContain('Router (regid.router)');
    expect(text.stdout).toContain('not at this trend');
  });

  it('refuses options the forecast does not take, and an unknown VA, with one sentence', async () => {
    const csv = await runCli(['admin', 'report', 'forecast', '--va', vaId, '--format', 'csv'], env);
    expect(csv.code).not.toBe(0);
    expect(csv.stderr.trim()).toBe(
      'smartlic: The forecast takes no --format, --from or --to: it prints a table, or JSON with --json.',
    );
    const unknown = await runCli(['admin', 'report', 'forecast', '--va', 'no-such-va'], env);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/no-such-va/);
  });
});
