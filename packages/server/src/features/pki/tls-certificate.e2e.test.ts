import { X509Certificate } from 'node:crypto';
import { copyFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { DAY, ManualClock } from '@smartlic/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningServer, StartupError, startServer } from '../../start-server.js';
import { makeTempDir } from '../../test-support/temp-dir.js';

/** GET over HTTPS trusting only `ca` (not the system's CAs), checking the name `servername`. */
function getTrusting(url: string, ca: string, servername?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, ...(servername ? { servername } : {}) }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A sign-in POST over HTTPS trusting only `ca`: its status and Set-Cookie lines. */
function signInTrusting(url: string, ca: string, password: string): Promise<{ status: number; cookies: string[] }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ email: 'admin', password });
    const req = request(
      `${url}/api/v1/session`,
      {
        ca,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, cookies: res.headers['set-cookie'] ?? [] }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('HTTPS', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const dataDir = () => {
    const dir = makeTempDir();
    cleanups.push(() => dir.remove());
    return dir.path;
  };
  const start = async (dir: string, clock: ManualClock, tls: Parameters<typeof startServer>[0]['tls']) => {
    const server = await startServer({ dataDir: dir, port: 0, clock, logLevel: 'silent', tls });
    cleanups.push(() => server.close());
    return server;
  };
  const serialOf = (server: RunningServer) => new X509Certificate(readFileSync(server.tls!.certPath)).serialNumber;

  it('--tls auto: a certificate from the authority CA for the host and local names, kept and re-issued when due', async () => {
    const dir = dataDir();
    const clock = new ManualClock();
    const server = await start(dir, clock, { mode: 'auto', names: ['licensing.example.com'] });
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(server.tls).toEqual({ mode: 'auto', certPath: join(dir, 'pki', 'tls-cert.pem') });
    expect(statSync(join(dir, 'pki', 'tls-key.pem')).mode & 0o777).toBe(0o600);
    const root = readFileSync(server.rootCaPath, 'utf8');
    const leaf = new X509Certificate(readFileSync(server.tls!.certPath));
    // The host first (127.0.0.1 here), then the local names, then --tls-name; no duplicate.
    expect(leaf.subjectAltName).toBe(
      'IP Address:127.0.0.1, DNS:localhost, IP Address:0:0:0:0:0:0:0:1, DNS:licensing.example.com',
    );
    expect(leaf.checkIssued(new X509Certificate(readFileSync(join(dir, 'pki', 'signing.pem'))))).toBe(true);
    // Trusting only the root CA is enough, by address and by each name.
    const port = new URL(server.url).port;
    expect((await getTrusting(`${server.url}/healthz`, root)).status).toBe(200);
    expect((await getTrusting(`https://localhost:${port}/healthz`, root)).status).toBe(200);
    expect((await getTrusting(`${server.url}/healthz`, root, 'licensing.example.com')).status).toBe(200);
    // Under TLS the portal's session cookie is Secure.
    const password = readFileSync(server.adminPasswordPath, 'utf8').trim();
    const signedIn = await signInTrusting(server.url, root, password);
    expect(signedIn.status).toBe(200);
    expect(signedIn.cookies.join('\n')).toMatch(/smartlic_session=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Strict/);
    await expect(getTrusting(`${server.url}/healthz`, root, 'other.example.com')).rejects.toThrow(/altnames/);
    const first = serialOf(server);
    await server.close();

    // Same names, not due: kept. A new name: issued again. Within 30 days of expiry: issued again.
    const same = await start(dir, clock, { mode: 'auto', names: ['licensing.example.com'] });
    expect(serialOf(same)).toBe(first);
    await same.close();
    const renamed = await start(dir, clock, { mode: 'auto', names: ['licensing.example.com', '10.0.0.7'] });
    const second = serialOf(renamed);
    expect(second).not.toBe(first);
    expect(new X509Certificate(readFileSync(renamed.tls!.certPath)).subjectAltName).toContain('IP Address:10.0.0.7');
    await renamed.close();
    clock.advance(340 * DAY);
    const later = await start(dir, clock, { mode: 'auto', names: ['licensing.example.com', '10.0.0.7'] });
    expect(serialOf(later)).not.toBe(second);
    expect((await getTrusting(`${later.url}/api/v1/health`, root)).status).toBe(200);
  });

  it('--tls-cert/--tls-key: serves the given pair; a mismatched, missing or non-PEM file stops the start with one sentence', async () => {
    // A pair to give: the one --tls auto issued for another data directory.
    const issuer = dataDir();
    const clock = new ManualClock();
    const auto = await start(issuer, clock, { mode: 'auto' });
    await auto.close();
    const other = dataDir();
    const otherAuto = await start(other, clock, { mode: 'auto' });
    await otherAuto.close();
    const certFile = join(issuer, 'pki', 'tls-cert.pem');
    const keyFile = join(issuer, 'pki', 'tls-key.pem');

    const dir = dataDir();
    const given = await start(dir, clock, { mode: 'files', certFile, keyFile });
    expect(given.url).toMatch(/^https:/);
    expect(given.tls).toEqual({ mode: 'files', certPath: certFile });
    const issuerRoot = readFileSync(join(issuer, 'pki', 'root-ca.pem'), 'utf8');
    expect((await getTrusting(`${given.url}/healthz`, issuerRoot)).status).toBe(200);
    // Its own root does not vouch for a certificate from elsewhere.
    await expect(getTrusting(`${given.url}/healthz`, readFileSync(given.rootCaPath, 'utf8'))).rejects.toThrow();
    await given.close();

    const refused = async (tls: { certFile: string; keyFile: string }) => {
      const error = await startServer({
        dataDir: dir,
        port: 0,
        clock,
        logLevel: 'silent',
        tls: { mode: 'files', ...tls },
      }).then(
        (s) => s.close().then(() => undefined),
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StartupError);
      return (error as Error).message;
    };
    const otherKey = join(other, 'pki', 'tls-key.pem');
    expect(await refused({ certFile, keyFile: otherKey })).toBe(
      `The TLS private key ${otherKey} does not belong to the certificate ${certFile}.`,
    );
    expect(await refused({ certFile: join(dir, 'nope.pem'), keyFile })).toBe(
      `The TLS certificate ${join(dir, 'nope.pem')} does not exist.`,
    );
    const notPem = join(dir, 'not-pem.txt');
    writeFileSync(notPem, 'hello');
    expect(await refused({ certFile: notPem, keyFile })).toBe(`The TLS certificate ${notPem} is not a PEM file.`);
    const keyAsCert = join(dir, 'key-as-cert.pem');
    copyFileSync(keyFile, keyAsCert);
    expect(await refused({ certFile: keyAsCert, keyFile })).toBe(
      `The TLS certificate ${keyAsCert} is not a PEM certificate.`,
    );
    expect(await refused({ certFile, keyFile: certFile })).toBe(
      `The TLS private key ${certFile} is not a PEM private key (or it is encrypted).`,
    );
    // A refused start left the port free and the data intact: a plain start works.
    const plain = await start(dir, clock, undefined);
    expect(plain.url).toMatch(/^http:/);
  });
});
