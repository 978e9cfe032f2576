import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../../server/src/test-support/postgres.js';
import { cliJson, runCli, type ServerProcess, serverDatabase, startServerProcess, tempDir } from './harness.js';

const TAG = 'regid.2026-01.com.example.names';

/** Commands that take an account or VA id also take its name; `pak convert` takes the PAK number. */
describeEachEngine('names instead of ids', (engine) => {
  let database: Awaited<ReturnType<typeof serverDatabase>> | undefined;
  let server: ServerProcess;
  let dir: { path: string; cleanup: () => Promise<void> };
  let env: Record<string, string>;
  const admin = (args: string[]) => ['admin', ...args];

  beforeAll(async () => {
    dir = await tempDir();
    database = await serverDatabase(engine);
    server = await startServerProcess(dir.path, {}, 0, [], { db: database.db });
    env = { SMARTLIC_SERVER: server.url, SMARTLIC_API_KEY: server.apiKey };
  });
  afterAll(async () => {
    await server?.stop();
    await database?.release();
    await dir?.cleanup();
  });

  it('resolves an unambiguous account and VA name, and refuses an ambiguous one listing the ids', async () => {
    const acme = await cliJson<{ id: string }>(admin(['account', 'create', 'Acme', '--domain', 'acme.example']), env);
    const beta = await cliJson<{ id: string }>(admin(['account', 'create', 'Beta', '--domain', 'beta.example']), env);
    // --account by name
    const lab = await cliJson<{ id: string }>(admin(['va', 'create', 'Lab', '--account', 'Acme']), env);
    const vas = await cliJson<Array<{ id: string; name: string }>>(admin(['va', 'list', '--account', 'Acme']), env);
    expect(vas.map((v) => v.id)).toEqual([lab.id]);
    // --va by name (only one Lab so far)
    await cliJson(admin(['license', 'add', '--va', 'Lab', '--tag', TAG, '--count', '5', '--name', 'Names']), env);
    const licenses = await cliJson<Array<{ tag: string; purchased?: number; quantity?: number }>>(
      admin(['license', 'list', '--va', lab.id]),
      env,
    );
    expect(licenses.map((l) => l.tag)).toEqual([TAG]);

    // A second Lab, in Beta: "Lab" is now ambiguous, and the refusal lists both ids.
    const betaLab = await cliJson<{ id: string }>(admin(['va', 'create', 'Lab', '--account', beta.id]), env);
    const ambiguous = await runCli(admin(['license', 'list', '--va', 'Lab']), env);
    expect(ambiguous.code).not.toBe(0);
    expect(ambiguous.stderr.trim()).toBe(
      `smartlic: 2 Virtual Accounts are named "Lab": give one of their ids instead (${lab.id} in "Acme"; ${betaLab.id} in "Beta").`,
    );
    // Two accounts of one name are refused likewise.
    const acme2 = await cliJson<{ id: string }>(admin(['account', 'create', 'Acme', '--domain', 'acme2.example']), env);
    const twice = await runCli(admin(['va', 'list', '--account', 'Acme']), env);
    expect(twice.code).not.toBe(0);
    expect(twice.stderr).toContain(`2 Smart Accounts are named "Acme"`);
    expect(twice.stderr).toContain(acme.id);
    expect(twice.stderr).toContain(acme2.id);
    // An unknown name is the server's not-found answer, not a crash.
    const unknown = await runCli(admin(['va', 'list', '--account', 'Nobody']), env);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/^smartlic: .*not/i);
  });

  it('create --existing reuse answers what exists, refuses a domain of another name, and fail stays the default', async () => {
    const made = await cliJson<{ id: string }>(admin(['account', 'create', 'Gamma', '--domain', 'gamma.example']), env);
    const again = await cliJson<{ id: string }>(
      admin(['account', 'create', 'Gamma', '--domain', 'gamma.example', '--existing', 'reuse']),
      env,
    );
    expect(again.id).toBe(made.id);
    const plain = await runCli(admin(['account', 'create', 'Gamma', '--domain', 'gamma.example']), env);
    expect(plain.code).not.toBe(0);
    const other = await runCli(
      admin(['account', 'create', 'Delta', '--domain', 'gamma.example', '--existing', 'reuse']),
      env,
    );
    expect(other.code).not.toBe(0);
    expect(other.stderr.trim()).toBe(
      `smartlic: The domain gamma.example belongs to the Smart Account "Gamma" (${made.id}), not "Delta": nothing was created.`,
    );
    const va = await cliJson<{ id: string }>(admin(['va', 'create', 'Ops', '--account', made.id]), env);
    const vaAgain = await cliJson<{ id: string }>(
      admin(['va', 'create', 'Ops', '--account', 'Gamma', '--existing', 'reuse']),
      env,
    );
    expect(vaAgain.id).toBe(va.id);
    const vas = await cliJson<unknown[]>(admin(['va', 'list', '--account', made.id]), env);
    expect(vas).toHaveLength(1);
    const bad = await runCli(admin(['va', 'create', 'Ops', '--account', made.id, '--existing', 'maybe']), env);
    expect(bad.stderr.trim()).toBe('smartlic: --existing must be fail or reuse, not "maybe".');
  });

  it('device init --existing reuse keeps the device, and refuses another identity', async () => {
    const state = `${dir.path}/dev-reuse`;
    const device = (args: string[]) => runCli(['device', '--state', state, ...args]);
    const first = await device(['init', '--pid', 'C9300', '--sn', 'SN1', '--json']);
    expect(first.code).toBe(0);
    const again = await device(['init', '--pid', 'C9300', '--sn', 'SN1', '--existing', 'reuse']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Device PID:C9300 SN:SN1 exists already');
    const other = await device(['init', '--pid', 'C9300', '--sn', 'SN2', '--existing', 'reuse']);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toContain('holds another device (PID:C9300 SN:SN1), not PID:C9300 SN:SN2');
    const plain = await device(['init', '--pid', 'C9300', '--sn', 'SN1']);
    expect(plain.code).not.toBe(0);
    expect(plain.stderr).toMatch(/already initialised/);
  });

  it('pak convert takes the PAK number pak list shows', async () => {
    const account = await cliJson<{ id: string }>(
      admin(['account', 'create', 'Paks', '--domain', 'paks.example']),
      env,
    );
    const va = await cliJson<{ id: string }>(admin(['va', 'create', 'Stock', '--account', account.id]), env);
    await cliJson(
      admin(['pak', 'import', '--account', 'Paks', '--number', 'PAK-77', '--order', 'SO-7', '--sku', `S7:${TAG}:9`]),
      env,
    );
    const after = await cliJson<{ number: string; skus: Array<{ convertible: number }> }>(
      admin(['pak', 'convert', 'PAK-77', '--va', 'Stock', '--sku', 'S7:4']),
      env,
    );
    expect(after.number).toBe('PAK-77');
    expect(after.skus[0]?.convertible).toBe(5);
    const missing = await runCli(admin(['pak', 'convert', 'PAK-00', '--va', va.id]), env);
    expect(missing.code).not.toBe(0);
  });
});
