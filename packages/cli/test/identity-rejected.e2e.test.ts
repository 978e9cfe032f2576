import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentStatus } from '@smartlic/agent';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../server/src/test-support/admin-client.js';
import { cliJson, runCli, type ServerProcess, startServerProcess, tempDir } from './harness.js';

const TAG = 'regid.2017-03.com.cisco.advantagek9';
const MISSING_SERIALS =
  'Missing ID Cert Serial Number Field; Missing Signing Cert Serial Number Field; Signed Data and Certificate do not match';
const at = (offset: string) => ({ SMARTLIC_DEV_CLOCK: '1', SMARTLIC_CLOCK_OFFSET: offset });

describe('seed 003 #6 through the CLI: the authority’s signing certificate is replaced', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let server: ServerProcess | undefined;
  let port = 0;
  let vaId: string;
  const dataDir = () => join(dir.path, 'authority');
  const admin = <T>(args: string[]) =>
    cliJson<T>(['admin', '--server', server!.url, '--api-key', server!.apiKey, ...args]);
  const device = (name: string, args: string[], offset: string) =>
    runCli(['device', '--state', join(dir.path, name), ...args], at(offset));
  const status = (name: string, offset: string) =>
    cliJson<AgentStatus>(['device', '--state', join(dir.path, name), 'show', 'license', 'status'], at(offset));
  /** A registration token, through the REST API (the CLI's token commands have tests of their own). */
  const token = async () => (await new AdminClient(server!.url, server!.apiKey).createToken(vaId)).token;
  /** (Re)starts the authority on the same port, its clock `offset` ahead. */
  const startAt = async (offset: string) => {
    await server?.stop();
    server = await startServerProcess(dataDir(), at(offset), port);
    port = Number(new URL(server.url).port);
  };

  beforeAll(async () => {
    dir = await tempDir('smartlic-serials-');
    await startAt('0d');
    // The set-up through the REST API: the CLI's account, VA and license commands have tests of their own.
    const api = new AdminClient(server!.url, server!.apiKey);
    const account = await api.createAccount('Serials Corp');
    vaId = (await api.createVa(account.id, 'Lab')).id;
    await api.addLicense(vaId, { tag: TAG, count: 10 });
    for (const [name, sn] of [
      ['renewing', 'SER1'],
      ['converting', 'SER2'],
    ] as const) {
      expect((await device(name, ['init', '--pid', 'C9300-24UX', '--sn', sn], '0d')).code).toBe(0);
      const destination = ['call-home', 'destination', server!.url, '--root', server!.rootCaPath];
      expect((await device(name, destination, '0d')).code).toBe(0);
      expect((await device(name, ['use', TAG, '2'], '0d')).code).toBe(0);
    }
    // 24 days of evaluation used, then registered (the evaluation clock stops).
    await startAt('24d');
    for (const name of ['renewing', 'converting']) {
      expect((await device(name, ['license', 'smart', 'register', 'idtoken', await token()], '24d')).code).toBe(0);
      expect((await status(name, '24d')).authorization.status).toBe('AUTHORIZED');
    }
    // The authority gets a new signing certificate (same root): devices still name the old serial.
    await server!.stop();
    await rm(join(dataDir(), 'pki', 'signing.pem'));
    await rm(join(dataDir(), 'pki', 'signing.key'));
    await startAt('54d');
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await dir?.cleanup();
  });

  it('a refused renewal leaves the device UNREGISTERED in EVAL MODE with its remaining time; registering again recovers', async () => {
    const renewal = await device('renewing', ['license', 'smart', 'renew', 'auth'], '54d');
    expect(renewal.code).not.toBe(0);
    expect(renewal.stderr).toContain(`Renewal failed: ${MISSING_SERIALS}. The device is no longer registered`);

    const all = await device('renewing', ['show', 'license', 'all'], '54d');
    expect(all.stdout).toContain('Registration:\n  Status: UNREGISTERED\n');
    expect(all.stdout).toContain(`  Failure reason: ${MISSING_SERIALS}\n`);
    // 66 days left less the seconds between `use` and `register`: the 30 registered days were not counted.
    expect(all.stdout).toMatch(
      /License Authorization:\n {2}Status: EVAL MODE\n {2}Evaluation Period Remaining: 65 days, 23 hours, 5\d minutes/,
    );
    const events = await device('renewing', ['show', 'license', 'eventlog'], '54d');
    expect(events.stdout).toMatch(
      /%SMART_LIC-3-ID_CERT_REJECTED: The licensing authority no longer recognises this device's certificates: Missing ID Cert Serial Number Field;.*The device is unregistered and uses its remaining evaluation time \(65 days, 23 hours, 5\d minutes/,
    );

    // The remedy: register again; the usage kept is authorized at once.
    const again = await device('renewing', ['license', 'smart', 'register', 'idtoken', await token()], '54d');
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    const s = await status('renewing', '54d');
    expect(s.registration).toMatchObject({ status: 'REGISTERED', failureReason: null });
    expect(s.authorization.status).toBe('AUTHORIZED');
    expect(s.usage).toEqual([expect.objectContaining({ tag: TAG, count: 2, status: 'AUTHORIZED' })]);
    expect(s.evaluation.running).toBe(false);
    const instances = await admin<{ sn: string }[]>(['instance', 'list', '--va', vaId]);
    expect(instances.filter((i) => i.sn === 'SER1')).toHaveLength(1);
  });

  it('a refused conversion report does the same', async () => {
    const report = await device(
      'converting',
      ['license', 'smart', 'conversion', 'start', '--license', 'PAK-1:ipbase:regid.c9300.ipbase:1'],
      '54d',
    );
    expect(report.code).not.toBe(0);
    expect(report.stderr).toContain(`Conversion failed: ${MISSING_SERIALS}`);
    const s = await status('converting', '54d');
    expect(s.registration).toMatchObject({ status: 'UNREGISTERED', failureReason: MISSING_SERIALS });
    expect(s.authorization.status).toBe('EVAL MODE');
    expect(s.evaluation.remainingMs).toBeGreaterThan(65 * 24 * 3600_000);
  });
});
