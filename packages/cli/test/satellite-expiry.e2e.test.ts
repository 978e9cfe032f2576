import { join } from 'node:path';
import type { AgentStatus } from '@smartlic/agent';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliJson, runCli, type ServerProcess, startServerProcess, tempDir } from './harness.js';
import { makeAuthorityPki, registerSatellite, seedSatellite } from './satellite-harness.js';

const TAG = 'regid.2017-03.com.cisco.advantagek9';
const DAY = 86_400_000;
const MISSING_SERIALS =
  'Missing ID Cert Serial Number Field; Missing Signing Cert Serial Number Field; Signed Data and Certificate do not match';
const at = (offset: string) => ({ SMARTLIC_DEV_CLOCK: '1', SMARTLIC_CLOCK_OFFSET: offset });

/**
 * Seed 003 #6 on a satellite: its signing certificate (issued here for 40 days) expires without a
 * renewing sync. The satellite alarms at start from 60 days before; once expired, its device's
 * renewal is refused with the missing-serials sentence and the device falls back to EVAL MODE
 * with the evaluation time it had left. Real satellite process, real agent through the CLI.
 */
describe('seed 003 #6: a satellite whose signing certificate has expired', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let satellite: ServerProcess | undefined;
  let port = 0;
  let vaId = '';
  const satDir = () => join(dir.path, 'satellite');
  const authorityDir = () => join(dir.path, 'authority');
  const admin = <T>(args: string[]) =>
    cliJson<T>(['admin', '--server', satellite!.url, '--api-key', satellite!.apiKey, ...args]);
  const device = (args: string[], offset: string) =>
    runCli(['device', '--state', join(dir.path, 'device'), ...args], at(offset));
  const status = (offset: string) =>
    cliJson<AgentStatus>(['device', '--state', join(dir.path, 'device'), 'show', 'license', 'status'], at(offset));
  /** (Re)starts the satellite on the same port, its clock `offset` ahead. */
  const startAt = async (offset: string) => {
    await satellite?.stop();
    satellite = await startServerProcess(satDir(), at(offset), port, ['--mode', 'satellite']);
    port = Number(new URL(satellite.url).port);
  };
  const startOutputs: Record<string, string> = {};

  beforeAll(async () => {
    dir = await tempDir('smartlic-sat-expiry-');
    const authority = await makeAuthorityPki(authorityDir());
    vaId = await seedSatellite(satDir(), join(dir.path, 'seeder'), { tag: TAG, count: 10 });
    // Registration: a signing CA under the authority root, valid 40 days only.
    await registerSatellite({
      issuerDir: authorityDir(),
      satelliteDir: satDir(),
      rootCaPem: authority.rootCaPem,
      name: 'site',
      validityMs: 40 * DAY,
    });

    await startAt('0d');
    startOutputs['0d'] = satellite!.output();
    const { token } = await admin<{ token: string }>(['token', 'create', '--va', vaId]);
    expect((await device(['init', '--pid', 'C9300-24UX', '--sn', 'SAT1'], '0d')).code).toBe(0);
    const destination = [
      'call-home',
      'destination',
      `${satellite!.url}/SmartTransport`,
      '--root',
      authority.rootCaPath,
    ];
    expect((await device(destination, '0d')).code).toBe(0);
    expect((await device(['use', TAG, '2'], '0d')).code).toBe(0);
    // 10 days of evaluation used, then registered through the satellite.
    await startAt('10d');
    const registered = await device(['license', 'smart', 'register', 'idtoken', token], '10d');
    expect(registered.stderr).toBe('');
    expect((await status('10d')).authorization.status).toBe('AUTHORIZED');
    // Nobody synchronised: 41 days after registration the certificate has expired.
    await startAt('41d');
    startOutputs['41d'] = satellite!.output();
  }, 180_000);

  afterAll(async () => {
    await satellite?.stop();
    await dir?.cleanup();
  });

  it('alarmed at start from 60 days before the expiry, and says at start that it has expired', () => {
    expect(startOutputs['0d']).toMatch(/"level":40[^\n]*"msg":"The signing certificate expires in 40 days"/);
    expect(startOutputs['41d']).toMatch(
      /"level":50[^\n]*"msg":"The signing certificate has expired: devices will refuse every response until it is replaced"/,
    );
  });

  it('refuses the renewal with the missing-serials sentence; the device falls back to EVAL MODE with its remaining time', async () => {
    const renewal = await device(['license', 'smart', 'renew', 'auth'], '41d');
    expect(renewal.code, renewal.stdout + renewal.stderr).not.toBe(0);
    expect(renewal.stderr).toContain(`Renewal failed: ${MISSING_SERIALS}. The device is no longer registered`);
    const all = await device(['show', 'license', 'all'], '41d');
    expect(all.stdout).toContain('Registration:\n  Status: UNREGISTERED\n');
    expect(all.stdout).toContain(`  Failure reason: ${MISSING_SERIALS}\n`);
    // 90 days less the 10 used before registering (less the seconds between `use` and `register`).
    expect(all.stdout).toMatch(
      /License Authorization:\n {2}Status: EVAL MODE\n {2}Evaluation Period Remaining: 79 days, 23 hours, 5\d minutes/,
    );
    const s = await status('41d');
    expect(s.usage).toEqual([expect.objectContaining({ tag: TAG, count: 2, status: 'EVAL MODE' })]);
  });
});
