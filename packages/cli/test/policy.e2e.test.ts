import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../server/src/test-support/admin-client.js';
import { cliJson, runCli, type ServerProcess, startServerProcess, tempDir } from './harness.js';

interface LicenseRow {
  tag: string;
  quantity: number;
  inUse: number;
}
interface Status {
  identity: { instanceId: string | null };
  usage: { tag: string; count: number; status: string }[];
  policy: {
    trustCode: { installed: boolean };
    policy: { name: string; classes: Record<string, { reportingFrequencyDays: number }> };
    usageReporting: {
      lastAckReceived: string | null;
      nextAckDeadline: string | null;
      reportingPushIntervalDays: number;
      nextReportPush: string | null;
      lastReportPush: string | null;
      lastReportFileWrite: string | null;
      unacknowledgedReports: number;
    };
  };
}

const TAG = 'regid.2026-01.com.example.dna-advantage';

/** SPEC §9 acceptance through the built CLI and a real server process: online, offline, deadline, custom policy. */
describe('Smart Licensing Using Policy through the CLI', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let server: ServerProcess;
  let vaId: string;
  let token: string;

  const admin = (args: string[]) => ['admin', '--server', server.url, '--api-key', server.apiKey, ...args];
  const stateOf = (name: string) => join(dir.path, name);
  const device = (name: string, args: string[], env: Record<string, string> = {}) =>
    runCli(['device', '--state', stateOf(name), ...args], env);
  const status = (name: string, env: Record<string, string> = {}) =>
    cliJson<Status>(['device', '--state', stateOf(name), 'show', 'license', 'status', '--json'], env);
  const inUse = async () =>
    (await cliJson<LicenseRow[]>(admin(['license', 'list', '--va', vaId]))).find((r) => r.tag === TAG)?.inUse;
  const file = (name: string) => join(dir.path, 'exchange', name);
  const newDevice = async (name: string, sn: string) => {
    expect((await device(name, ['init', '--pid', 'C9300-24UX', '--sn', sn, '--model', 'policy'])).code).toBe(0);
    const dest = await device(name, ['call-home', 'destination', server.url, '--root', server.rootCaPath]);
    expect(dest.code, dest.stderr).toBe(0);
    const trusted = await device(name, ['license', 'smart', 'trust', 'idtoken', token, 'local']);
    expect(trusted.code, trusted.stderr).toBe(0);
  };

  beforeAll(async () => {
    dir = await tempDir();
    await mkdir(join(dir.path, 'exchange'));
    server = await startServerProcess(join(dir.path, 'data'));
    // The set-up through the REST API: the CLI's account, VA, license and token commands have tests of their own.
    const api = new AdminClient(server.url, server.apiKey);
    const account = await api.createAccount('Policy Corp', 'policy.example');
    vaId = (await api.createVa(account.id, 'Campus')).id;
    await api.addLicense(vaId, { tag: TAG, count: 10, name: 'DNA Advantage' });
    token = (await api.createToken(vaId, { maxUses: 10 })).token;
  });

  afterAll(async () => {
    await server?.stop();
    await dir?.cleanup();
  });

  it('trust → use 3 → sync all → Last ACK received; the authority shows 3 in use; a second trust needs force', async () => {
    await newDevice('online', 'FCW0000A001');
    const again = await device('online', ['license', 'smart', 'trust', 'idtoken', token]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('already installed');
    expect((await device('online', ['use', TAG, '3'])).code).toBe(0);
    const synced = await device('online', ['license', 'smart', 'sync', 'all']);
    expect(synced.code, synced.stderr).toBe(0);
    const s = await status('online');
    expect(s.policy.usageReporting.lastAckReceived).not.toBeNull();
    expect(s.policy.usageReporting.unacknowledgedReports).toBe(0);
    expect(s.usage).toEqual([{ tag: TAG, displayName: null, count: 3, status: 'IN USE' }]);
    const text = await device('online', ['show', 'license', 'status']);
    expect(text.stdout).toContain('Last ACK received: ');
    expect(text.stdout).toContain('Trust Code Installed:');
    expect(await inUse()).toBe(3);
    const instances = await cliJson<Array<{ id: string; usage: Array<{ tag: string; count: number }> }>>(
      admin(['instance', 'list', '--va', vaId]),
    );
    expect(instances.find((i) => i.id === s.identity.instanceId)?.usage).toEqual([{ tag: TAG, count: 3 }]);
    expect((await device('online', ['license', 'smart', 'trust', 'idtoken', token, 'force'])).code).toBe(0);
  });

  it('offline: save usage → admin usage import → import ACK; twice counts once; altered refused; another device’s ACK refused', async () => {
    await newDevice('offline', 'FCW0000B001');
    await newDevice('neighbour', 'FCW0000B002');
    const before = (await inUse()) ?? 0;
    expect((await device('offline', ['use', TAG, '2'])).code).toBe(0);
    const saved = await device('offline', ['license', 'smart', 'save', 'usage', 'all', file('usage.json')]);
    expect(saved.code, saved.stderr).toBe(0);

    const imported = await cliJson<{ reports: number; acknowledged: number }>(
      admin(['usage', 'import', '--in', file('usage.json'), '--out', file('ack.json')]),
    );
    expect(imported).toMatchObject({ reports: 1, acknowledged: 1 });
    expect(await inUse()).toBe(before + 2);
    const twice = await cliJson<{ reports: number; acknowledged: number; recorded: number }>(
      admin(['usage', 'import', '--in', file('usage.json'), '--out', file('ack2.json')]),
    );
    expect(twice).toMatchObject({ reports: 1, acknowledged: 1, recorded: 0 });
    expect(await inUse()).toBe(before + 2);

    const usage = JSON.parse(await readFile(file('usage.json'), 'utf8'));
    usage.reports[0].payload.usage[0].measurements[0].count = 1;
    await writeFile(file('altered.json'), JSON.stringify(usage));
    const altered = await runCli(admin(['usage', 'import', '--in', file('altered.json'), '--out', file('ack3.json')]));
    expect(altered.code).not.toBe(0);
    expect(altered.stderr).toContain('data and signature do not match');
    expect(await inUse()).toBe(before + 2);

    const foreign = await device('neighbour', ['license', 'smart', 'import', file('ack.json')]);
    expect(foreign.code).not.toBe(0);
    expect(foreign.stderr).toContain('another product');
    const loaded = await device('offline', ['license', 'smart', 'import', file('ack.json')]);
    expect(loaded.code, loaded.stderr).toBe(0);
    const s = await status('offline');
    expect(s.policy.usageReporting.lastAckReceived).not.toBeNull();
    expect(s.policy.usageReporting.lastReportFileWrite).not.toBeNull();
    expect(s.policy.usageReporting.unacknowledgedReports).toBe(0);
  });

  it('logs REPORTING_REQUIRED after a missed ACK deadline and keeps working', async () => {
    await newDevice('late', 'FCW0000C001');
    expect((await device('late', ['use', TAG, '1'])).code).toBe(0);
    const later = { SMARTLIC_DEV_CLOCK: '1', SMARTLIC_CLOCK_OFFSET: '366d' };
    const ran = await device('late', ['run', '--once'], later);
    expect(ran.code, ran.stderr).toBe(0);
    const log = await device('late', ['show', 'license', 'eventlog'], later);
    expect(log.stdout).toContain('%SMART_LIC-3-REPORTING_REQUIRED');
    expect((await device('late', ['use', TAG, '2'], later)).code).toBe(0);
    expect((await status('late', later)).usage[0]).toMatchObject({ count: 2, status: 'IN USE' });
  });

  it('switches a registered device to the policy model, keeping its product instance and usage', async () => {
    expect((await device('switch', ['init', '--pid', 'C9300-24UX', '--sn', 'FCW0000E001'])).code).toBe(0);
    expect((await device('switch', ['call-home', 'destination', server.url, '--root', server.rootCaPath])).code).toBe(
      0,
    );
    const before = (await inUse()) ?? 0;
    expect((await device('switch', ['use', TAG, '2'])).code).toBe(0);
    const registered = await device('switch', ['license', 'smart', 'register', 'idtoken', token]);
    expect(registered.code, registered.stderr).toBe(0);
    expect(await inUse()).toBe(before + 2);
    const registeredAs = (await status('switch')).identity.instanceId;
    const switched = await device('switch', ['license', 'smart', 'trust', 'idtoken', token]);
    expect(switched.code, switched.stderr).toBe(0);
    const s = await status('switch');
    expect(s.identity.instanceId).toBe(registeredAs);
    expect(s.policy.trustCode.installed).toBe(true);
    expect(s.usage).toEqual([{ tag: TAG, displayName: null, count: 2, status: 'IN USE' }]);
    expect(await inUse()).toBe(before + 2);
    expect((await device('switch', ['license', 'smart', 'sync', 'all'])).code).toBe(0);
    expect(await inUse()).toBe(before + 2);
  });

  it('SLAC by file: request save → admin authorization import → import; the same request answers the same code; altered and foreign files refused', async () => {
    await newDevice('slac', 'FCW0000F001');
    await newDevice('slac-other', 'FCW0000F002');
    const saved = await device('slac', [
      'license',
      'smart',
      'authorization',
      'request',
      'save',
      file('slac-request.json'),
      '--tag',
      TAG,
      '--count',
      '2',
    ]);
    expect(saved.code, saved.stderr).toBe(0);
    expect(saved.stdout).toContain('admin authorization import');

    const answer = (out: string, input = file('slac-request.json')) =>
      runCli(admin(['authorization', 'import', '--in', input, '--out', file(out), '--json']));
    const first = await answer('slac.json');
    expect(first.code, first.stderr).toBe(0);
    const issued = JSON.parse(first.stdout) as { slacId: string; issued: boolean };
    expect(issued.issued).toBe(true);
    const again = JSON.parse((await answer('slac-again.json')).stdout) as { slacId: string; issued: boolean };
    expect(again).toEqual({ slacId: issued.slacId, issued: false });

    const request = JSON.parse(await readFile(file('slac-request.json'), 'utf8'));
    request.request.payload.licenses[0].count = 9;
    await writeFile(file('slac-request-altered.json'), JSON.stringify(request));
    const alteredRequest = await answer('slac-x.json', file('slac-request-altered.json'));
    expect(alteredRequest.code).not.toBe(0);
    expect(alteredRequest.stderr).toContain('data and signature do not match');

    const foreign = await device('slac-other', ['license', 'smart', 'import', file('slac.json')]);
    expect(foreign.code).not.toBe(0);
    expect(foreign.stderr).toContain('another product');
    const slacFile = JSON.parse(await readFile(file('slac.json'), 'utf8'));
    slacFile.slac.payload.licenses[0].count = 5;
    await writeFile(file('slac-altered.json'), JSON.stringify(slacFile));
    const altered = await device('slac', ['license', 'smart', 'import', file('slac-altered.json')]);
    expect(altered.code).not.toBe(0);
    expect(altered.stderr).toContain('was altered');

    const loaded = await device('slac', ['license', 'smart', 'import', file('slac.json')]);
    expect(loaded.code, loaded.stderr).toBe(0);
    expect(loaded.stdout).toContain(`Authorization code installed for ${TAG} (2)`);
    const twice = await device('slac', ['license', 'smart', 'import', file('slac-again.json')]);
    expect(twice.code, twice.stderr).toBe(0);
    expect(twice.stdout).toContain('imported already');
  });

  it('a custom VA policy arrives in the next ACK and changes the schedule', async () => {
    await newDevice('custom', 'FCW0000D001');
    expect((await device('custom', ['use', TAG, '1'])).code).toBe(0);
    expect((await status('custom')).policy.usageReporting.reportingPushIntervalDays).toBe(0);
    const set = await runCli(
      admin([
        'policy',
        'set',
        '--va',
        vaId,
        '--class',
        'unenforced-perpetual',
        '--first-report',
        '30',
        '--frequency',
        '30',
        '--on-change',
        '7',
      ]),
    );
    expect(set.code, set.stderr).toBe(0);
    expect((await device('custom', ['license', 'smart', 'sync', 'all'])).code).toBe(0);
    const s = await status('custom');
    expect(s.policy.policy.name).toBe('Custom Policy');
    expect(s.policy.usageReporting.reportingPushIntervalDays).toBe(30);
    const pushed = Date.parse(s.policy.usageReporting.lastReportPush ?? '');
    expect(Date.parse(s.policy.usageReporting.nextReportPush ?? '')).toBe(pushed + 30 * 86_400_000);
    const text = await device('custom', ['show', 'license', 'status']);
    expect(text.stdout).toContain('Reporting push interval: 30 days');
  });
});
