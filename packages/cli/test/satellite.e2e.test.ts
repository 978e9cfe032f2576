import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AdminClient } from '../../server/src/test-support/admin-client.js';
import { cliJson, runCli, type ServerProcess, startServerProcess, tempDir } from './harness.js';

interface LicenseRow {
  tag: string;
  quantity: number;
  inUse: number;
}
interface Status {
  registration: { status: string };
  authorization: { status: string };
}

const TAG = 'regid.2026-01.com.example.Site_1.0';

// Issue 11's acceptance, through real server processes, real files and the built CLI.
// One authority serves every test, each in a Smart Account of its own; each test has a new satellite.
describe('a satellite through the CLI and real server processes', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let authority: ServerProcess;
  /** False while a test has the authority stopped (so that a failure there does not fail the next tests). */
  let authorityUp = false;
  let satellite: ServerProcess;
  let round = 0;
  let accountId: string;
  let vaId: string;

  const on = (server: ServerProcess, args: string[]) => [
    'admin',
    '--server',
    server.url,
    '--api-key',
    server.apiKey,
    ...args,
  ];
  const stateOf = (name: string) => join(dir.path, `device-${name}`);
  const device = (name: string, args: string[]) => runCli(['device', '--state', stateOf(name), ...args]);
  const licenses = async (server: ServerProcess) =>
    (await cliJson<LicenseRow[]>(on(server, ['license', 'list', '--va', vaId]))).find((r) => r.tag === TAG);
  const authorityApi = () => new AdminClient(authority.url, authority.apiKey);

  beforeAll(async () => {
    dir = await tempDir();
    authority = await startServerProcess(join(dir.path, 'authority'));
    authorityUp = true;
  });

  beforeEach(async () => {
    round++;
    if (!authorityUp) {
      authority = await startServerProcess(join(dir.path, 'authority'));
      authorityUp = true;
    }
    satellite = await startServerProcess(join(dir.path, `satellite-${round}`), {}, 0, ['--mode', 'satellite']);
    // The set-up through the REST API: the CLI's account, VA and license commands have tests of their own.
    const api = authorityApi();
    accountId = (await api.createAccount(`Example ${round}`, `ex${round}.com`)).id;
    vaId = (await api.createVa(accountId, 'Site')).id;
    await api.addLicense(vaId, { tag: TAG, count: 10 });
  });

  afterEach(async () => {
    await satellite?.stop();
  });

  afterAll(async () => {
    await authority?.stop();
    await dir?.cleanup();
  });

  async function createSatellite(name: string): Promise<{ id: string; token: string }> {
    return cliJson(on(authority, ['satellite', 'create', name, '--account', accountId, '--va', vaId]));
  }

  it('network: registers, serves a device through /SmartTransport while the authority is down, and brings it up', async () => {
    const { token } = await createSatellite('site-sat');
    const registered = await runCli(on(satellite, ['sync', 'register', '--token', token, '--upstream', authority.url]));
    expect(registered.stderr).toBe('');
    expect(registered.stdout).toMatch(/Registered as satellite site-sat/);
    expect(await licenses(satellite)).toMatchObject({ quantity: 10, inUse: 0 });

    const refused = await runCli(on(authority, ['token', 'create', '--va', vaId]));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/Virtual Account Site is served by satellite site-sat; create tokens there\./);

    const idToken = (await cliJson<{ token: string }>(on(satellite, ['token', 'create', '--va', vaId]))).token;
    expect((await device('d1', ['init', '--pid', 'C9300', '--sn', 'SAT1'])).code).toBe(0);
    const dest = await device('d1', [
      'call-home',
      'destination',
      `${satellite.url}/SmartTransport`,
      '--root',
      authority.rootCaPath,
    ]);
    expect(dest.code).toBe(0);
    const reg = await device('d1', ['license', 'smart', 'register', 'idtoken', idToken]);
    expect(reg.stderr).toBe('');
    expect((await device('d1', ['use', TAG, '4'])).code).toBe(0);
    let status = await cliJson<Status>(['device', '--state', stateOf('d1'), 'show', 'license', 'status']);
    expect(status.authorization.status).toBe('AUTHORIZED');

    // The authority stops: the device still renews at the satellite; a sync fails with one sentence.
    const port = new URL(authority.url).port;
    authorityUp = false;
    await authority.stop();
    expect((await device('d1', ['license', 'smart', 'renew', 'auth'])).code).toBe(0);
    status = await cliJson<Status>(['device', '--state', stateOf('d1'), 'show', 'license', 'status']);
    expect(status.authorization.status).toBe('AUTHORIZED');
    const before = await cliJson<{ lastSyncUp: string }>(on(satellite, ['sync', 'status']));
    const failed = await runCli(on(satellite, ['sync', 'now']));
    expect(failed.code).not.toBe(0);
    expect(failed.stderr.trim().split('\n')).toHaveLength(1);
    expect(failed.stderr).toMatch(/could not be reached.*nothing was changed/);
    const after = await cliJson<{ lastSyncUp: string; health: string }>(on(satellite, ['sync', 'status']));
    expect(after.lastSyncUp).toBe(before.lastSyncUp);
    expect(after.health).toMatch(/Upstream unreachable/);

    authority = await startServerProcess(join(dir.path, 'authority'), {}, Number(port));
    authorityUp = true;
    const synced = await cliJson<{ sequence: number; up: { instances: number } }>(on(satellite, ['sync', 'now']));
    expect(synced.up.instances).toBe(1);
    const instances = await cliJson<Array<{ sn: string }>>(on(authority, ['instance', 'list', '--va', vaId]));
    expect(instances.map((i) => i.sn)).toEqual(['SAT1']);
    expect(await licenses(authority)).toMatchObject({ quantity: 10, inUse: 4 });

    // Licenses added at the authority reach the satellite at its next sync.
    await cliJson(on(authority, ['license', 'add', '--va', vaId, '--tag', TAG, '--count', '5']));
    await cliJson(on(satellite, ['sync', 'now']));
    expect(await licenses(satellite)).toMatchObject({ quantity: 15, inUse: 4 });
    const [listed] = await cliJson<Array<{ name: string; productInstances: number; lastSyncUp: string }>>(
      on(authority, ['satellite', 'list', '--account', accountId]),
    );
    expect(listed).toMatchObject({ name: 'site-sat', productInstances: 1 });
  }, 300_000);

  it('files: registers and syncs only by files; replays, foreign, altered and malformed files change nothing', async () => {
    const { token } = await createSatellite('airgap');
    const files = join(dir.path, 'files');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(files);
    const regFile = join(files, 'register.yml');
    expect((await runCli(on(satellite, ['sync', 'register', '--token', token, '--request-file', regFile]))).code).toBe(
      0,
    );
    const regResponse = join(files, 'register-response.yml');
    const answered = await cliJson<{ satellite: string; applied: boolean }>(
      on(authority, ['satellite', 'file-sync', '--in', regFile, '--out', regResponse]),
    );
    expect(answered).toMatchObject({ satellite: 'airgap', applied: true });
    expect((await cliJson<{ applied: boolean }>(on(satellite, ['sync', 'import', regResponse]))).applied).toBe(true);
    expect(await licenses(satellite)).toMatchObject({ quantity: 10 });

    const idToken = (await cliJson<{ token: string }>(on(satellite, ['token', 'create', '--va', vaId]))).token;
    await device('d2', ['init', '--pid', 'C9200', '--sn', 'AIR1']);
    await device('d2', ['call-home', 'destination', `${satellite.url}/SmartTransport`, '--root', authority.rootCaPath]);
    expect((await device('d2', ['license', 'smart', 'register', 'idtoken', idToken])).code).toBe(0);
    expect((await device('d2', ['use', TAG, '3'])).code).toBe(0);

    const exported = await cliJson<{ file: string; sequence: number }>(
      on(satellite, ['sync', 'export', '--out', files]),
    );
    expect(exported.sequence).toBe(1);
    expect(exported.file).toMatch(/license-sync-request-airgap_\d{8}-1\.yml$/);
    const out1 = join(files, 'response-1.yml');
    const out2 = join(files, 'response-1-again.yml');
    const first = await cliJson<{ applied: boolean }>(
      on(authority, ['satellite', 'file-sync', '--in', exported.file, '--out', out1]),
    );
    const second = await cliJson<{ applied: boolean }>(
      on(authority, ['satellite', 'file-sync', '--in', exported.file, '--out', out2]),
    );
    expect([first.applied, second.applied]).toEqual([true, false]);
    expect(await readFile(out2, 'utf8')).toBe(await readFile(out1, 'utf8'));
    expect(await licenses(authority)).toMatchObject({ inUse: 3 });

    // An altered request and a malformed one: refused with one sentence, nothing changed.
    const altered = join(files, 'altered.yml');
    await writeFile(altered, (await readFile(exported.file, 'utf8')).replace('"count": 3', '"count": 9'));
    const alteredOut = await runCli(
      on(authority, ['satellite', 'file-sync', '--in', altered, '--out', join(files, 'x.yml')]),
    );
    expect(alteredOut.code).not.toBe(0);
    expect(alteredOut.stderr).toMatch(/signature does not match/);
    const malformed = join(files, 'malformed.yml');
    await writeFile(malformed, '{"format": "smartlic-sync/1", "kind": "sync-request"}');
    const malformedOut = await runCli(
      on(authority, ['satellite', 'file-sync', '--in', malformed, '--out', join(files, 'y.yml')]),
    );
    expect(malformedOut.stderr).toMatch(/not a smartlic synchronisation file/);
    expect(await licenses(authority)).toMatchObject({ inUse: 3 });

    expect((await cliJson<{ applied: boolean }>(on(satellite, ['sync', 'import', out1]))).applied).toBe(true);
    const twice = await runCli(on(satellite, ['sync', 'import', out2]));
    expect(twice.code).not.toBe(0);
    expect(twice.stderr.trim()).toMatch(/This response \(sequence 1\) was already applied; nothing was changed\./);

    // A response for another satellite.
    const other = await createSatelliteIn('other');
    const otherSat = await startServerProcess(join(dir.path, 'other'), {}, 0, ['--mode', 'satellite']);
    try {
      const otherReg = join(files, 'other-register.yml');
      await runCli(on(otherSat, ['sync', 'register', '--token', other.token, '--request-file', otherReg]));
      const otherResp = join(files, 'other-register-response.yml');
      await cliJson(on(authority, ['satellite', 'file-sync', '--in', otherReg, '--out', otherResp]));
      await cliJson(on(otherSat, ['sync', 'import', otherResp]));
      const otherExport = await cliJson<{ file: string }>(on(otherSat, ['sync', 'export', '--out', files]));
      const otherOut = join(files, 'other-response.yml');
      await cliJson(on(authority, ['satellite', 'file-sync', '--in', otherExport.file, '--out', otherOut]));
      const foreign = await runCli(on(satellite, ['sync', 'import', otherOut]));
      expect(foreign.stderr).toMatch(/This response is for another satellite, not airgap; nothing was changed\./);
    } finally {
      await otherSat.stop();
    }
    expect((await readdir(files)).some((f) => /^license-sync-request-airgap_\d{8}-1\.yml$/.test(f))).toBe(true);
  }, 300_000);

  it('chained: authority → region → site; a device on the site is authorized and its usage reaches the authority', async () => {
    const site3 = (await authorityApi().createVa(accountId, 'Site3')).id;
    await authorityApi().addLicense(site3, { tag: TAG, count: 3 });
    const region = await cliJson<{ token: string }>(
      on(authority, ['satellite', 'create', 'region', '--account', accountId, '--va', vaId, '--va', site3]),
    );
    await cliJson(on(satellite, ['sync', 'register', '--token', region.token, '--upstream', authority.url]));
    const site = await cliJson<{ token: string }>(
      on(satellite, ['satellite', 'create', 'site', '--account', accountId, '--va', site3]),
    );
    const siteSat = await startServerProcess(join(dir.path, 'site'), {}, 0, ['--mode', 'satellite']);
    try {
      await cliJson(on(siteSat, ['sync', 'register', '--token', site.token, '--upstream', satellite.url]));
      const idToken = (await cliJson<{ token: string }>(on(siteSat, ['token', 'create', '--va', site3]))).token;
      await device('deep', ['init', '--pid', 'C9200', '--sn', 'DEEP1']);
      await device('deep', [
        'call-home',
        'destination',
        `${siteSat.url}/SmartTransport`,
        '--root',
        authority.rootCaPath,
      ]);
      const reg = await device('deep', ['license', 'smart', 'register', 'idtoken', idToken]);
      expect(reg.stderr).toBe('');
      expect((await device('deep', ['use', TAG, '2'])).code).toBe(0);
      const status = await cliJson<Status>(['device', '--state', stateOf('deep'), 'show', 'license', 'status']);
      expect(status.authorization.status).toBe('AUTHORIZED');

      const inUse = async () =>
        (await cliJson<LicenseRow[]>(on(authority, ['license', 'list', '--va', site3]))).find((r) => r.tag === TAG)
          ?.inUse;
      await cliJson(on(siteSat, ['sync', 'now']));
      expect(await inUse()).toBe(0);
      await cliJson(on(satellite, ['sync', 'now']));
      expect(await inUse()).toBe(2);
    } finally {
      await siteSat.stop();
    }
  }, 300_000);

  it('disconnected for 200 simulated days with devices coming and going: one sync brings every change, in order', async () => {
    const { token } = await createSatellite('remote');
    await cliJson(on(satellite, ['sync', 'register', '--token', token, '--upstream', authority.url]));
    // Disconnected: no scheduled sync (it would otherwise run at each restart 30+ days later).
    expect(
      (await cliJson<{ scheduleDays: null }>(on(satellite, ['sync', 'schedule', '--off']))).scheduleDays,
    ).toBeNull();
    const idToken = (
      await cliJson<{ token: string }>(
        on(satellite, ['token', 'create', '--va', vaId, '--days', '365', '--max-uses', '50']),
      )
    ).token;
    const port = Number(new URL(satellite.url).port);
    const live: string[] = [];
    const gone: string[] = [];
    for (const day of [0, 50, 100, 150, 200]) {
      const clock = { SMARTLIC_DEV_CLOCK: '1', SMARTLIC_CLOCK_OFFSET: `${day}d` };
      await satellite.stop();
      satellite = await startServerProcess(satellite.dataDir, clock, port, ['--mode', 'satellite']);
      const name = `day${day}`;
      const run = (args: string[]) => runCli(['device', '--state', stateOf(name), ...args], clock);
      await run(['init', '--pid', 'C9300', '--sn', `SN-${day}`]);
      await run(['call-home', 'destination', `${satellite.url}/SmartTransport`, '--root', authority.rootCaPath]);
      expect((await run(['license', 'smart', 'register', 'idtoken', idToken])).code).toBe(0);
      expect((await run(['use', TAG, '1'])).code).toBe(0);
      live.push(name);
      if (live.length > 2) {
        const old = live.shift() as string;
        const deregistered = await runCli(['device', '--state', stateOf(old), 'license', 'smart', 'deregister'], clock);
        expect(deregistered.code).toBe(0);
        gone.push(old);
      }
      for (const other of live.slice(0, -1)) {
        const renewed = await runCli(['device', '--state', stateOf(other), 'license', 'smart', 'renew', 'auth'], clock);
        expect(renewed.code).toBe(0);
      }
    }
    const synced = await cliJson<{ up: { instances: number; removed: number; events: number } }>(
      on(satellite, ['sync', 'now']),
      { SMARTLIC_DEV_CLOCK: '1', SMARTLIC_CLOCK_OFFSET: '200d' },
    );
    expect(synced.up.removed).toBe(gone.length);
    const instances = await cliJson<Array<{ sn: string }>>(on(authority, ['instance', 'list', '--va', vaId]));
    expect(instances.map((i) => i.sn).sort()).toEqual(['SN-150', 'SN-200']);
    expect(await licenses(authority)).toMatchObject({ inUse: 2 });
    const events = await cliJson<Array<{ at: string; type: string; actor: string }>>(
      on(authority, [
        'event',
        'list',
        '--va',
        vaId,
        '--type',
        'instance.registered,instance.deregistered',
        '--limit',
        '100',
      ]),
    );
    expect(events.every((e) => e.actor.startsWith('satellite:remote/'))).toBe(true);
    const registered = events.filter((e) => e.type === 'instance.registered').map((e) => e.at);
    expect(registered).toHaveLength(5);
    // Newest first, at the satellite's (simulated) times, 50 days apart.
    expect(registered).toEqual([...registered].sort().reverse());
    expect(Date.parse(registered[0] as string) - Date.parse(registered[4] as string)).toBeGreaterThan(199 * 86_400_000);
  }, 300_000);

  async function createSatelliteIn(name: string): Promise<{ token: string }> {
    const va = await authorityApi().createVa(accountId, `VA-${name}`);
    return cliJson(on(authority, ['satellite', 'create', name, '--account', accountId, '--va', va.id]));
  }
});
