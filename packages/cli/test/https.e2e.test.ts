import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliJson, runCli, type ServerProcess, startServerProcess, tempDir } from './harness.js';

const TAG = 'regid.2026-01.com.example.A_1.0';

interface Status {
  registration: { status: string };
  authorization: { status: string };
}

describe('HTTPS through the CLI', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let server: ServerProcess;
  const dataDir = () => join(dir.path, 'data');
  const admin = (args: string[]) => ['admin', '--server', server.url, '--api-key', server.apiKey, ...args];

  beforeAll(async () => {
    dir = await tempDir();
    server = await startServerProcess(dataDir(), {}, 0, ['--tls', 'auto', '--tls-name', 'licensing.test']);
  });
  afterAll(async () => {
    await server?.stop();
    await dir?.cleanup();
  });

  it('--tls auto: says https and which trust to use; admin trusts the root with --ca or SMARTLIC_CA, a device with --root', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const out = server.output();
    expect(out).toContain(
      `HTTPS certificate: ${join(dataDir(), 'pki', 'tls-cert.pem')} (issued by this server's root CA)`,
    );
    expect(out).toContain(`SMARTLIC_CA=${server.rootCaPath}`);
    expect(out).toContain(`call-home destination ${server.url} --root ${server.rootCaPath}`);

    // Without trust, the admin command says what to do, in one sentence.
    const untrusted = await runCli(admin(['account', 'list']));
    expect(untrusted.code).not.toBe(0);
    expect(untrusted.stderr.trim()).toMatch(
      /^smartlic: Cannot reach the server at https:\/\/127\.0\.0\.1:\d+ \([A-Z_]+: the server's TLS certificate is not trusted; pass --ca FILE or set SMARTLIC_CA to its CA \(for --tls auto: <data>\/pki\/root-ca\.pem\)\)\.$/,
    );
    const account = await cliJson<{ id: string }>([
      'admin',
      '--ca',
      server.rootCaPath,
      ...admin(['account', 'create', 'Secure Corp', '--domain', 'secure.example.com']).slice(1),
    ]);
    const env = { SMARTLIC_CA: server.rootCaPath };
    const va = await cliJson<{ id: string }>(admin(['va', 'create', 'Lab', '--account', account.id]), env);
    await cliJson(admin(['license', 'add', '--va', va.id, '--tag', TAG, '--count', '2']), env);
    const token = (await cliJson<{ token: string }>(admin(['token', 'create', '--va', va.id]), env)).token;

    const state = join(dir.path, 'device');
    const device = (args: string[]) => runCli(['device', '--state', state, ...args]);
    expect((await device(['init', '--pid', 'C9300-24UX', '--sn', 'TLS0001'])).code).toBe(0);
    expect((await device(['call-home', 'destination', server.url, '--root', server.rootCaPath])).code).toBe(0);
    const reg = await device(['license', 'smart', 'register', 'idtoken', token]);
    expect(reg.stderr).toBe('');
    expect(reg.code).toBe(0);
    expect((await device(['use', TAG, '1'])).code).toBe(0);
    const status = await cliJson<Status>(['device', '--state', state, 'show', 'license', 'status']);
    expect(status.registration.status).toBe('REGISTERED');
    expect(status.authorization.status).toBe('AUTHORIZED');
    const instances = await cliJson<unknown[]>(admin(['instance', 'list', '--va', va.id]), env);
    expect(instances).toHaveLength(1);
  });

  it('--tls-cert/--tls-key: serves the given pair; a mismatched pair or half a pair is refused in one sentence', async () => {
    const certFile = join(dataDir(), 'pki', 'tls-cert.pem');
    const keyFile = join(dataDir(), 'pki', 'tls-key.pem');
    const other = await tempDir();
    try {
      const given = await startServerProcess(join(other.path, 'data'), {}, 0, [
        '--tls-cert',
        certFile,
        '--tls-key',
        keyFile,
      ]);
      try {
        expect(given.output()).toContain(`HTTPS certificate: ${certFile} (yours)`);
        // The pair was issued by the first server's root: that is the CA to trust.
        const health = await runCli([
          'admin',
          '--server',
          given.url,
          '--api-key',
          given.apiKey,
          '--ca',
          server.rootCaPath,
          'account',
          'list',
          '--json',
        ]);
        expect(health.stderr).toBe('');
        expect(health.code).toBe(0);
      } finally {
        await given.stop();
      }
      const start = (args: string[]) =>
        runCli(['server', '--data', join(other.path, 'data'), '--port', '0', '--log-level', 'silent', ...args]);
      const wrongKey = join(dataDir(), 'pki', 'signing.key');
      const mismatched = await start(['--tls-cert', certFile, '--tls-key', wrongKey]);
      expect(mismatched.code).not.toBe(0);
      expect(mismatched.stderr.trim()).toBe(
        `smartlic: The TLS private key ${wrongKey} does not belong to the certificate ${certFile}.`,
      );
      const half = await start(['--tls-cert', certFile]);
      expect(half.stderr.trim()).toBe(
        'smartlic: --tls-cert and --tls-key go together: give both the certificate and its private key.',
      );
      const both = await start(['--tls', 'auto', '--tls-cert', certFile, '--tls-key', keyFile]);
      expect(both.stderr.trim()).toBe('smartlic: Use either --tls auto or --tls-cert/--tls-key, not both.');
      const bogus = await start(['--tls', 'on']);
      expect(bogus.stderr.trim()).toBe(
        'smartlic: --tls takes "auto", not "on" (for your own certificate use --tls-cert and --tls-key).',
      );
      const badCa = await runCli([
        'admin',
        '--server',
        server.url,
        '--api-key',
        'k',
        '--ca',
        keyFile,
        'account',
        'list',
      ]);
      expect(badCa.stderr.trim()).toBe(
        `smartlic: --ca names ${keyFile}, which is not a PEM certificate (e.g. <data>/pki/root-ca.pem).`,
      );
      expect(readFileSync(certFile, 'utf8')).toContain('BEGIN CERTIFICATE');
    } finally {
      await other.cleanup();
    }
  });
});
