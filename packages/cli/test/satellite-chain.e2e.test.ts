import { join } from 'node:path';
import type { AgentStatus } from '@smartlic/agent';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliJson, runCli, type ServerProcess, startServerProcess, tempDir } from './harness.js';
import { makeAuthorityPki, registerSatellite, seedSatellite } from './satellite-harness.js';

const TAG = 'regid.2017-03.com.cisco.advantagek9';

/**
 * A device two levels down (authority → Sat1 → Sat3), trusting only the authority root, through
 * `call-home destination …/SmartTransport`: the real agent accepts Sat3's answers through the
 * chain they carry. A device whose satellite is not registered yet is asked to try again.
 */
describe('a device on a satellite under a satellite', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let sat3: ServerProcess;
  let vaId: string;
  let rootCaPath: string;
  const sat3Dir = () => join(dir.path, 'sat3');
  const device = (name: string, args: string[]) => runCli(['device', '--state', join(dir.path, name), ...args]);
  const status = (name: string) =>
    cliJson<AgentStatus>(['device', '--state', join(dir.path, name), 'show', 'license', 'status']);

  beforeAll(async () => {
    dir = await tempDir('smartlic-sat-chain-');
    const authority = await makeAuthorityPki(join(dir.path, 'authority'));
    rootCaPath = authority.rootCaPath;
    vaId = await seedSatellite(sat3Dir(), join(dir.path, 'seeder'), { tag: TAG, count: 10 });
  }, 120_000);

  afterAll(async () => {
    await sat3?.stop();
    await dir?.cleanup();
  });

  it('is asked to try again while Sat3 is not registered, then AUTHORIZED through the chain', async () => {
    sat3 = await startServerProcess(sat3Dir(), {}, 0, ['--mode', 'satellite']);
    const admin = <T>(args: string[]) => cliJson<T>(['admin', '--server', sat3.url, '--api-key', sat3.apiKey, ...args]);
    const { token } = await admin<{ token: string }>(['token', 'create', '--va', vaId]);
    expect((await device('d', ['init', '--pid', 'C9300-24UX', '--sn', 'CHAIN1'])).code).toBe(0);
    const destination = ['call-home', 'destination', `${sat3.url}/SmartTransport`, '--root', rootCaPath];
    expect((await device('d', destination)).code).toBe(0);
    expect((await device('d', ['use', TAG, '3'])).code).toBe(0);
    const early = await device('d', ['license', 'smart', 'register', 'idtoken', token]);
    expect(early.stdout + early.stderr).toContain(
      'This satellite is not registered yet: run smartlic admin sync register',
    );
    expect((await status('d')).registration.status).not.toBe('REGISTERED');

    // Sat1 registers under the authority, then issues Sat3's CA; Sat3 is restarted on its new files.
    await registerSatellite({
      issuerDir: join(dir.path, 'authority'),
      satelliteDir: join(dir.path, 'sat1'),
      rootCaPem: (await import('node:fs')).readFileSync(rootCaPath, 'utf8'),
      name: 'region',
    });
    await registerSatellite({
      issuerDir: join(dir.path, 'sat1'),
      satelliteDir: sat3Dir(),
      rootCaPem: (await import('node:fs')).readFileSync(rootCaPath, 'utf8'),
      name: 'site',
    });
    const port = new URL(sat3.url).port;
    await sat3.stop();
    sat3 = await startServerProcess(sat3Dir(), {}, Number(port), ['--mode', 'satellite']);
    expect(sat3.output()).toContain('(registered: serving devices)');

    const registered = await device('d', ['license', 'smart', 'register', 'idtoken', token]);
    expect(registered.stderr).toBe('');
    const s = await status('d');
    expect(s.registration.status).toBe('REGISTERED');
    expect(s.authorization.status).toBe('AUTHORIZED');
    expect((await device('d', ['license', 'smart', 'renew', 'auth'])).code).toBe(0);
    const licenses = await admin<{ tag: string; inUse: number }[]>(['license', 'list', '--va', vaId]);
    expect(licenses).toEqual([expect.objectContaining({ tag: TAG, inUse: 3 })]);
  });

  it('answers a policy device on Sat3 through the chain: trust code, online ACK, and an ACK file carrying the chain', async () => {
    const admin = <T>(args: string[]) => cliJson<T>(['admin', '--server', sat3.url, '--api-key', sat3.apiKey, ...args]);
    const { token } = await admin<{ token: string }>(['token', 'create', '--va', vaId]);
    expect((await device('p', ['init', '--pid', 'C9300-24UX', '--sn', 'CHAINP1', '--model', 'policy'])).code).toBe(0);
    expect(
      (await device('p', ['call-home', 'destination', `${sat3.url}/SmartTransport`, '--root', rootCaPath])).code,
    ).toBe(0);
    const trusted = await device('p', ['license', 'smart', 'trust', 'idtoken', token, 'local']);
    expect(trusted.code, trusted.stderr).toBe(0);
    expect((await device('p', ['use', TAG, '2'])).code).toBe(0);
    const synced = await device('p', ['license', 'smart', 'sync', 'all']);
    expect(synced.code, synced.stderr).toBe(0);
    type PolicyStatus = {
      policy: { usageReporting: { lastAckReceived: string | null; unacknowledgedReports: number } };
    };
    const online = await cliJson<PolicyStatus>(['device', '--state', join(dir.path, 'p'), 'show', 'license', 'status']);
    expect(online.policy.usageReporting.lastAckReceived).not.toBeNull();

    expect((await device('p', ['use', TAG, '1'])).code).toBe(0);
    const usage = join(dir.path, 'p-usage.json');
    const ack = join(dir.path, 'p-ack.json');
    expect((await device('p', ['license', 'smart', 'save', 'usage', 'all', usage])).code).toBe(0);
    await admin(['usage', 'import', '--in', usage, '--out', ack]);
    const file = JSON.parse((await import('node:fs')).readFileSync(ack, 'utf8')) as { chain?: string[] };
    expect(file.chain).toHaveLength(1);
    const imported = await device('p', ['license', 'smart', 'import', ack]);
    expect(imported.code, imported.stderr).toBe(0);
    const offline = await cliJson<PolicyStatus>([
      'device',
      '--state',
      join(dir.path, 'p'),
      'show',
      'license',
      'status',
    ]);
    expect(offline.policy.usageReporting.unacknowledgedReports).toBe(0);
    const licenses = await admin<{ tag: string; inUse: number }[]>(['license', 'list', '--va', vaId]);
    expect(licenses).toEqual([expect.objectContaining({ tag: TAG, inUse: 4 })]);
  });
});
