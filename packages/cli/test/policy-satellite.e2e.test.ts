import { mkdir } from 'node:fs/promises';
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
  policy: {
    policy: { name: string };
    usageReporting: {
      lastAckReceived: string | null;
      reportingPushIntervalDays: number;
      unacknowledgedReports: number;
    };
  };
}

const TAG = 'regid.2026-01.com.example.dna-advantage';

/**
 * Issue 13's satellite acceptance (ADR 0018 "Through a satellite"): a policy device behind a
 * satellite that syncs only by files. Its report goes up as a usage file to the satellite and as
 * the satellite's sync request to the authority; the satellite's sync response and the ACK file
 * come back down. A custom policy set at the authority reaches the device's next ACK.
 */
describe('Smart Licensing Using Policy through a satellite that syncs by file', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let authority: ServerProcess;
  let satellite: ServerProcess;
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
  const file = (name: string) => join(dir.path, 'files', name);
  const device = (args: string[]) => runCli(['device', '--state', join(dir.path, 'device'), ...args]);
  const status = () =>
    cliJson<Status>(['device', '--state', join(dir.path, 'device'), 'show', 'license', 'status', '--json']);
  const licenses = async (server: ServerProcess) =>
    (await cliJson<LicenseRow[]>(on(server, ['license', 'list', '--va', vaId]))).find((r) => r.tag === TAG);

  /** One sync by files: export on the satellite → file-sync at the authority → import on the satellite. */
  async function syncByFiles(n: number): Promise<void> {
    const exported = await cliJson<{ file: string; sequence: number }>(
      on(satellite, ['sync', 'export', '--out', join(dir.path, 'files')]),
    );
    expect(exported.file).toMatch(/license-sync-request-site-sat_\d{8}-\d+\.yml$/);
    const response = file(`response-${n}.yml`);
    const answered = await cliJson<{ applied: boolean }>(
      on(authority, ['satellite', 'file-sync', '--in', exported.file, '--out', response]),
    );
    expect(answered.applied).toBe(true);
    expect((await cliJson<{ applied: boolean }>(on(satellite, ['sync', 'import', response]))).applied).toBe(true);
  }

  beforeAll(async () => {
    dir = await tempDir();
    await mkdir(join(dir.path, 'files'));
    authority = await startServerProcess(join(dir.path, 'authority'));
    satellite = await startServerProcess(join(dir.path, 'satellite'), {}, 0, ['--mode', 'satellite']);
    // The set-up through the REST API: the CLI's account, VA and license commands have tests of their own.
    const api = new AdminClient(authority.url, authority.apiKey);
    accountId = (await api.createAccount('Example', 'ex.com')).id;
    vaId = (await api.createVa(accountId, 'Campus')).id;
    await api.addLicense(vaId, { tag: TAG, count: 10 });
    const { token } = await cliJson<{ token: string }>(
      on(authority, ['satellite', 'create', 'site-sat', '--account', accountId, '--va', vaId]),
    );
    const request = file('register.yml');
    expect((await runCli(on(satellite, ['sync', 'register', '--token', token, '--request-file', request]))).code).toBe(
      0,
    );
    await cliJson(on(authority, ['satellite', 'file-sync', '--in', request, '--out', file('register-response.yml')]));
    expect(
      (await cliJson<{ applied: boolean }>(on(satellite, ['sync', 'import', file('register-response.yml')]))).applied,
    ).toBe(true);
  }, 120_000);

  afterAll(async () => {
    await satellite?.stop();
    await authority?.stop();
    await dir?.cleanup();
  });

  it('the report reaches the authority and the ACK comes back, two file hops each way; a custom policy follows', async () => {
    const idToken = (await cliJson<{ token: string }>(on(satellite, ['token', 'create', '--va', vaId]))).token;
    expect((await device(['init', '--pid', 'C9300-24UX', '--sn', 'FCWSAT0001', '--model', 'policy'])).code).toBe(0);
    const dest = await device([
      'call-home',
      'destination',
      `${satellite.url}/SmartTransport`,
      '--root',
      authority.rootCaPath,
    ]);
    expect(dest.code, dest.stderr).toBe(0);
    const trusted = await device(['license', 'smart', 'trust', 'idtoken', idToken, 'local']);
    expect(trusted.code, trusted.stderr).toBe(0);
    expect((await device(['use', TAG, '3'])).code).toBe(0);

    // Up: the device's usage file to the satellite (hop 1) …
    const saved = await device(['license', 'smart', 'save', 'usage', 'all', file('usage.json')]);
    expect(saved.code, saved.stderr).toBe(0);
    const imported = await cliJson<{ reports: number; acknowledged: number; recorded: number }>(
      on(satellite, ['usage', 'import', '--in', file('usage.json'), '--out', file('ack.json')]),
    );
    expect(imported).toMatchObject({ reports: 1, acknowledged: 1, recorded: 1 });
    expect(await licenses(satellite)).toMatchObject({ inUse: 3 });
    expect(await licenses(authority)).toMatchObject({ inUse: 0 });

    // … and the satellite's sync request to the authority (hop 2); the response comes back (hop 3).
    await syncByFiles(1);
    expect(await licenses(authority)).toMatchObject({ quantity: 10, inUse: 3 });
    const instanceId = (await status()).identity.instanceId;
    const mirrored = await cliJson<Array<{ id: string; sn: string; usage: Array<{ tag: string; count: number }> }>>(
      on(authority, ['instance', 'list', '--va', vaId]),
    );
    expect(mirrored.find((i) => i.id === instanceId)).toMatchObject({
      sn: 'FCWSAT0001',
      usage: [{ tag: TAG, count: 3 }],
    });

    // Down: the ACK file to the device (hop 4).
    const loaded = await device(['license', 'smart', 'import', file('ack.json')]);
    expect(loaded.code, loaded.stderr).toBe(0);
    let s = await status();
    expect(s.policy.usageReporting.lastAckReceived).not.toBeNull();
    expect(s.policy.usageReporting.unacknowledgedReports).toBe(0);
    expect(s.policy.policy.name).not.toBe('Custom Policy');

    // The same usage file imported again at the satellite counts nothing; nor does the next sync.
    const twice = await cliJson<{ recorded: number }>(
      on(satellite, ['usage', 'import', '--in', file('usage.json'), '--out', file('ack-again.json')]),
    );
    expect(twice.recorded).toBe(0);

    // A VA's policy is set at the authority only; it comes down with the next sync and reaches the
    // device in its next ACK.
    const policyArgs = ['policy', 'set', '--va', vaId, '--class', 'unenforced-perpetual'];
    const days = ['--first-report', '30', '--frequency', '30', '--on-change', '7'];
    const refused = await runCli(on(satellite, [...policyArgs, ...days]));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/This satellite cannot set a Virtual Account's policy; set it at the authority/);
    expect((await runCli(on(authority, [...policyArgs, ...days]))).code).toBe(0);
    await syncByFiles(2);
    expect(await licenses(authority)).toMatchObject({ inUse: 3 });
    const atSatellite = await cliJson<{ name: string; custom: boolean }>(
      on(satellite, ['policy', 'show', '--va', vaId]),
    );
    expect(atSatellite).toMatchObject({ name: 'Custom Policy', custom: true });

    expect((await device(['use', TAG, '2'])).code).toBe(0);
    await device(['license', 'smart', 'save', 'usage', 'all', file('usage-2.json')]);
    const second = await cliJson<{ recorded: number }>(
      on(satellite, ['usage', 'import', '--in', file('usage-2.json'), '--out', file('ack-2.json')]),
    );
    expect(second.recorded).toBe(1);
    expect((await device(['license', 'smart', 'import', file('ack-2.json')])).code).toBe(0);
    s = await status();
    expect(s.policy.policy.name).toBe('Custom Policy');
    expect(s.policy.usageReporting.reportingPushIntervalDays).toBe(30);
    await syncByFiles(3);
    expect(await licenses(authority)).toMatchObject({ inUse: 2 });
  }, 300_000);
});
