import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRootCa, FakeAuthority, type ProxyProcess, spawnConnectProxy } from '@smartlic/agent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliJson, runCli, tempDir } from './harness.js';

const TAG = 'regid.2016-07.com.cisco.EXP-RMS,1.0';

describe('device call-home through a TLS-intercepting proxy, and the event log', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let fake: FakeAuthority;
  let proxy: ProxyProcess;
  const device = (args: string[]) => runCli(['device', '--state', join(dir.path, 'device'), ...args]);

  beforeAll(async () => {
    dir = await tempDir();
    [fake, proxy] = await Promise.all([FakeAuthority.start({ https: true }), spawnConnectProxy({ intercept: true })]);
    fake.setLicenses(TAG, 2, 'Room system');
  });
  afterAll(async () => {
    await Promise.all([fake?.close(), proxy?.stop()]);
    await dir?.cleanup();
  });

  it('fails with the SSL reason until the proxy CA is imported with --trust, and logs it all', async () => {
    expect((await device(['init', '--pid', 'EXPWY-VM', '--profile', 'expressway'])).code).toBe(0);
    const set = await device(['call-home', 'destination', fake.url, '--proxy', proxy.url]);
    expect(set.stdout).toContain(
      `Call-home destination set to ${fake.url} (proxy through the HTTP proxy ${proxy.url})`,
    );
    expect(set.stdout).toContain(`SHA-256 fingerprint ${fake.rootFingerprint}`);
    expect((await device(['use', TAG, '1'])).code).toBe(0);

    const refused = await device(['license', 'smart', 'register', 'idtoken', fake.createToken()]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('SSL certificate problem: self-signed certificate in certificate chain');
    const status = await device(['show', 'license', 'status']);
    expect(status.stdout).toContain(
      'Failure reason: SSL certificate problem: self-signed certificate in certificate chain',
    );
    expect(status.stdout).toMatch(/Next Registration Attempt: \w{3} \d\d [\d:]+ \d{4} UTC/);

    const caPath = join(dir.path, 'proxy-ca.pem');
    await writeFile(caPath, proxy.caPem ?? '');
    expect((await device(['call-home', 'destination', fake.url, '--proxy', proxy.url, '--trust', caPath])).code).toBe(
      0,
    );
    // The proxy CA is a TLS trust point only: the signing anchors are still the one pinned root.
    const trusted = await cliJson<{ transport: Record<string, unknown> }>([
      'device',
      '--state',
      join(dir.path, 'device'),
      'show',
      'license',
      'status',
    ]);
    expect(trusted.transport).toMatchObject({
      pinnedFingerprint: fake.rootFingerprint,
      trustAnchors: 1,
      tlsTrustPoints: 1,
    });
    const registered = await device(['license', 'smart', 'register', 'idtoken', fake.createToken()]);
    expect(registered.stderr).toBe('');
    expect(registered.code).toBe(0);
    expect(proxy.log).toContain('INTERCEPT POST /api/v1/device/register 200');

    const log = await device(['show', 'license', 'eventlog']);
    expect(log.code).toBe(0);
    const lines = log.stdout.trimEnd().split('\n');
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ %SMART_LIC-\d-[A-Z_]+: /);
    expect(lines[0]).toMatch(/%SMART_LIC-6-AGENT_ENABLED: Smart Agent for Licensing is enabled$/);
    expect(log.stdout).toMatch(/%SMART_LIC-3-AGENT_REG_FAILED: .*SSL certificate problem/);
    expect(log.stdout).toMatch(
      /%SMART_LIC-6-AGENT_REG_SUCCESS: Smart Agent for Licensing Registration with .* succeeded/,
    );

    const json = await cliJson<{ type: string; name: string; at: number; message: string }[]>([
      'device',
      '--state',
      join(dir.path, 'device'),
      'show',
      'license',
      'eventlog',
    ]);
    expect(json.map((e) => e.type)).toEqual(
      expect.arrayContaining(['AGENT_REG_FAILED', 'AGENT_REG_SUCCESS', 'COMM_FAILED']),
    );
    expect(json).toHaveLength(lines.length);

    // The log stays readable when the state itself is damaged (when it is needed most).
    await writeFile(join(dir.path, 'device', 'state.json'), '{"version": 1, "trunc');
    expect((await device(['show', 'license', 'status'])).code).not.toBe(0);
    const still = await device(['show', 'license', 'eventlog']);
    expect(still.code).toBe(0);
    expect(still.stdout).toBe(log.stdout);
  });

  it('never takes a --trust PEM as a signer of licensing answers; --root is the authority root', async () => {
    // `impostor` answers as a forging interceptor would: over TLS vouched for by its CA, and with
    // registration answers signed under that CA.
    const impostor = await FakeAuthority.start({ https: true });
    try {
      const other = (name: string, args: string[]) => runCli(['device', '--state', join(dir.path, name), ...args]);
      const impostorCa = join(dir.path, 'impostor-ca.pem');
      await writeFile(impostorCa, impostor.rootCaPem);
      // The device's authority root, with a name of its own (TLS looks issuers up by name).
      const rootPath = join(dir.path, 'authority-root.pem');
      await writeFile(rootPath, (await createRootCa('CN=the authority root, O=smartlic test', Date.now())).pem);

      expect((await other('forged', ['init', '--pid', 'EXPWY-VM'])).code).toBe(0);
      const set = await other('forged', [
        'call-home',
        'destination',
        impostor.url,
        '--root',
        rootPath,
        '--trust',
        impostorCa,
      ]);
      expect(set.code).toBe(0);
      expect(set.stdout).not.toContain('SHA-256 fingerprint');
      const status = (name: string) =>
        cliJson<{ transport: Record<string, unknown>; registration: { status: string } }>([
          'device',
          '--state',
          join(dir.path, name),
          'show',
          'license',
          'status',
        ]);
      expect((await status('forged')).transport).toMatchObject({
        pinnedFingerprint: null,
        trustAnchors: 1,
        tlsTrustPoints: 1,
      });
      const forged = await other('forged', ['license', 'smart', 'register', 'idtoken', impostor.createToken()]);
      expect(forged.code).toBe(1);
      expect(forged.stderr).toContain('Data and signature do not match');
      expect(impostor.count('register')).toBe(1);
      expect((await status('forged')).registration.status).toBe('REGISTRATION FAILED');

      // The same answers are taken once that CA is given as the authority root (first registration).
      expect((await other('rooted', ['init', '--pid', 'EXPWY-VM'])).code).toBe(0);
      expect((await other('rooted', ['call-home', 'destination', impostor.url, '--root', impostorCa])).code).toBe(0);
      const registered = await other('rooted', ['license', 'smart', 'register', 'idtoken', impostor.createToken()]);
      expect(registered.stderr).toBe('');
      expect(registered.code).toBe(0);
      expect((await status('rooted')).transport).toMatchObject({ trustAnchors: 1, tlsTrustPoints: 0 });
    } finally {
      await impostor.close();
    }
  });
});
