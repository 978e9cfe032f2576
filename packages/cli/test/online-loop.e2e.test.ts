import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AdminClient } from '../../server/src/test-support/admin-client.js';
import { describeEachEngine } from '../../server/src/test-support/postgres.js';
import { cliJson, runCli, type ServerProcess, serverDatabase, startServerProcess, tempDir } from './harness.js';

interface LicenseRow {
  tag: string;
  quantity: number;
  inUse: number;
  surplus: number;
  alerts: string[];
}
interface Status {
  registration: { status: string };
  authorization: { status: string };
  usage: { tag: string; count: number; status: string }[];
}

const TAG_A = 'regid.2026-01.com.example.A_1.0';

describeEachEngine('the online loop through the CLI, a real server and real devices', (engine) => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let server: ServerProcess;
  let database: Awaited<ReturnType<typeof serverDatabase>> | undefined;
  let vaId: string;
  let token: string;

  const admin = (args: string[]) => ['admin', '--server', server.url, '--api-key', server.apiKey, ...args];
  const stateOf = (name: string) => join(dir.path, `device-${name}`);
  const device = (name: string, args: string[], env: Record<string, string> = {}) =>
    runCli(['device', '--state', stateOf(name), ...args], env);
  const status = (name: string) => cliJson<Status>(['device', '--state', stateOf(name), 'show', 'license', 'status']);
  const licenses = async () =>
    (await cliJson<LicenseRow[]>(admin(['license', 'list', '--va', vaId]))).find((r) => r.tag === TAG_A);

  async function newDevice(name: string, sn: string): Promise<void> {
    expect((await device(name, ['init', '--pid', 'C9300-24UX', '--sn', sn, '--hostname', name])).code).toBe(0);
    const set = await device(name, ['call-home', 'destination', server.url, '--root', server.rootCaPath]);
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
  }

  async function registerAndUse(name: string, sn: string, count: number): Promise<void> {
    await newDevice(name, sn);
    const reg = await device(name, ['license', 'smart', 'register', 'idtoken', token]);
    expect(reg.stderr).toBe('');
    expect(reg.code).toBe(0);
    const use = await device(name, ['use', TAG_A, String(count)]);
    expect(use.code).toBe(0);
  }

  beforeAll(async () => {
    dir = await tempDir();
    database = await serverDatabase(engine);
    server = await startServerProcess(join(dir.path, 'data'), {}, 0, [], { db: database.db });
    // The set-up through the REST API: the CLI's account, VA, license and token commands have tests of their own.
    const api = new AdminClient(server.url, server.apiKey);
    const account = await api.createAccount('Example Corp', 'example.com');
    vaId = (await api.createVa(account.id, 'Lab')).id;
    await api.addLicense(vaId, { tag: TAG_A, count: 10, name: 'Feature A' });
    token = (await api.createToken(vaId, { description: 'lab devices' })).token;
  });

  afterAll(async () => {
    await server?.stop();
    await dir?.cleanup();
    await database?.release();
  });

  it('two devices using 4 of 10 are AUTHORIZED; in use 8, surplus +2', async () => {
    await registerAndUse('d1', 'SN0001', 4);
    await registerAndUse('d2', 'SN0002', 4);
    for (const name of ['d1', 'd2']) {
      const s = await status(name);
      expect(s.registration.status).toBe('REGISTERED');
      expect(s.authorization.status).toBe('AUTHORIZED');
      expect(s.usage).toEqual([expect.objectContaining({ tag: TAG_A, count: 4, status: 'AUTHORIZED' })]);
    }
    expect(await licenses()).toMatchObject({ quantity: 10, inUse: 8, surplus: 2, alerts: [] });
    const text = await runCli(admin(['license', 'list', '--va', vaId]));
    expect(text.stdout).toMatch(/Feature A.*10\s+8\s+\+2/);
  });

  it('a third device makes all three OUT OF COMPLIANCE; adding 2 licenses brings them back', async () => {
    await registerAndUse('d3', 'SN0003', 4);
    expect((await status('d3')).authorization.status).toBe('OUT OF COMPLIANCE');
    for (const name of ['d1', 'd2']) {
      expect((await device(name, ['license', 'smart', 'renew', 'auth'])).code).toBe(0);
    }
    for (const name of ['d1', 'd2', 'd3']) expect((await status(name)).authorization.status).toBe('OUT OF COMPLIANCE');
    expect(await licenses()).toMatchObject({ quantity: 10, inUse: 12, surplus: -2, alerts: ['Insufficient Licenses'] });
    const text = await runCli(admin(['license', 'list', '--va', vaId]));
    expect(text.stdout).toMatch(/12\s+-2\s+Insufficient Licenses/);

    await cliJson(admin(['license', 'add', '--va', vaId, '--tag', TAG_A, '--count', '2']));
    for (const name of ['d1', 'd2', 'd3']) {
      expect((await device(name, ['license', 'smart', 'renew', 'auth'])).code).toBe(0);
      expect((await status(name)).authorization.status).toBe('AUTHORIZED');
    }
    expect(await licenses()).toMatchObject({ quantity: 12, inUse: 12, surplus: 0, alerts: [] });
  });

  it('a device given no trust point pins the server root on first use and shows its fingerprint', async () => {
    expect((await device('tofu', ['init', '--pid', 'C9300-24UX', '--sn', 'SN0077'])).code).toBe(0);
    const set = await device('tofu', ['call-home', 'destination', server.url]);
    expect(set.code).toBe(0);
    const { createHash, X509Certificate } = await import('node:crypto');
    const { readFile } = await import('node:fs/promises');
    const root = new X509Certificate(await readFile(server.rootCaPath));
    const digest = createHash('sha256').update(root.raw).digest('hex');
    const printed = /fingerprint ([0-9A-Fa-f:]+)/.exec(set.stdout)?.[1]?.replace(/:/g, '').toLowerCase();
    expect(printed).toBe(digest);
    const reg = await device('tofu', ['license', 'smart', 'register', 'idtoken', token]);
    expect(reg.code).toBe(0);
    expect((await device('tofu', ['license', 'smart', 'deregister'])).code).toBe(0);
  });

  it('registering the same UDI again fails without force and succeeds with it, without double counting', async () => {
    await newDevice('d1-again', 'SN0001');
    const refused = await device('d1-again', ['license', 'smart', 'register', 'idtoken', token]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/Product Already Registered/i);
    const s = await status('d1-again');
    expect(s.registration.status).toBe('REGISTRATION FAILED');
    const shown = await device('d1-again', ['show', 'license', 'status']);
    expect(shown.stdout).toMatch(/NOT REGISTERED - REGISTRATION FAILED/);
    expect(shown.stdout).toMatch(/Failure reason: Product Already Registered/);

    const forced = await device('d1-again', ['license', 'smart', 'register', 'idtoken', token, 'force']);
    expect(forced.stderr).toBe('');
    expect(forced.code).toBe(0);
    expect((await device('d1-again', ['use', TAG_A, '4'])).code).toBe(0);
    expect(await licenses()).toMatchObject({ inUse: 12, surplus: 0 });
    const instances = await cliJson<{ sn: string }[]>(admin(['instance', 'list', '--va', vaId]));
    expect(instances.filter((i) => i.sn === 'SN0001')).toHaveLength(1);
  });

  it('a device clock 2 h off is refused with the seed message', async () => {
    await newDevice('skewed', 'SN0099');
    const refused = await device('skewed', ['license', 'smart', 'register', 'idtoken', token], {
      SMARTLIC_DEV_CLOCK: '1',
      SMARTLIC_CLOCK_OFFSET: '2h',
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/The device date '\d+' is offset beyond the allowed tolerance limit\./);
    const instances = await cliJson<{ sn: string }[]>(admin(['instance', 'list', '--va', vaId]));
    expect(instances.some((i) => i.sn === 'SN0099')).toBe(false);
  });

  it('stopping and restarting the server and the devices loses nothing', async () => {
    const before = await cliJson<unknown[]>(admin(['instance', 'list', '--va', vaId]));
    const licensesBefore = await licenses();
    await server.stop();
    server = await startServerProcess(server.dataDir, {}, Number(new URL(server.url).port), [], { db: server.db });
    expect(server.output()).toMatch(/created at first start/);
    expect(await cliJson<unknown[]>(admin(['instance', 'list', '--va', vaId]))).toHaveLength(before.length);
    expect(await licenses()).toEqual(licensesBefore);
    for (const name of ['d2', 'd3']) {
      expect((await device(name, ['license', 'smart', 'renew', 'auth'])).code).toBe(0);
      expect((await status(name)).authorization.status).toBe('AUTHORIZED');
    }
    expect(await licenses()).toEqual(licensesBefore);
  });

  it('deregistering releases the usage', async () => {
    const out = await device('d3', ['license', 'smart', 'deregister']);
    expect(out.code).toBe(0);
    expect((await status('d3')).registration.status).toBe('UNREGISTERED');
    expect(await licenses()).toMatchObject({ inUse: 8, surplus: 4 });
  });
});
