import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createCsr, DAY, generateKeyPair, ManualClock, SmartlicError } from '@smartlic/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir } from '../../test-support/temp-dir.js';
import { loadOrCreatePki } from './authority-pki.js';
import { verifyCsr } from './csr.js';
import { issueIdCertificate } from './id-certificate-issuer.js';
import { PkiHolder } from './pki-holder.js';
import {
  ensureSatelliteKey,
  installSatelliteCertificate,
  issueSatelliteCa,
  loadSatellitePki,
  satelliteCaIssuer,
} from './satellite-pki.js';

describe('satellite PKI', () => {
  const clock = new ManualClock();
  let dirs: ReturnType<typeof makeTempDir>[];
  const newDir = () => {
    const d = makeTempDir();
    dirs.push(d);
    return d.path;
  };
  beforeEach(() => {
    dirs = [];
  });
  afterEach(() => {
    for (const d of dirs) d.remove();
  });

  /** An authority data dir and a satellite registered directly under it. */
  async function registered(name = 'site') {
    const authority = newDir();
    const authorityPki = await loadOrCreatePki({ dataDir: authority, clock });
    const satellite = newDir();
    const key = ensureSatelliteKey(satellite);
    const issued = await issueSatelliteCa({
      issuer: await satelliteCaIssuer(authority),
      publicKeyPem: key.publicKeyPem,
      satelliteName: name,
      now: clock.now(),
    });
    const holder = new PkiHolder(null);
    await installSatelliteCertificate(satellite, { rootCaPem: authorityPki.rootCaPem, ...issued, pki: holder });
    return { authority, authorityPki, satellite, key, issued, holder };
  }

  it('keeps one satellite key: pending before registration, the signing key after, mode 0600', async () => {
    const dir = newDir();
    const first = ensureSatelliteKey(dir);
    expect(statSync(join(dir, 'pki', 'satellite-pending.key')).mode & 0o777).toBe(0o600);
    expect(ensureSatelliteKey(dir).publicKeyPem).toBe(first.publicKeyPem);
    const { satellite, key } = await registered();
    expect(existsSync(join(satellite, 'pki', 'satellite-pending.key'))).toBe(false);
    expect(statSync(join(satellite, 'pki', 'signing.key')).mode & 0o777).toBe(0o600);
    expect(ensureSatelliteKey(satellite).publicKeyPem).toBe(key.publicKeyPem);
  });

  it('refuses to treat an authority as a satellite', async () => {
    const authority = newDir();
    const pki = await loadOrCreatePki({ dataDir: authority, clock });
    expect(() => ensureSatelliteKey(authority)).toThrow(/an authority cannot be registered as a satellite/);
    await expect(
      installSatelliteCertificate(authority, {
        rootCaPem: pki.rootCaPem,
        certificatePem: pki.signingCertPem,
        chainPems: [],
      }),
    ).rejects.toThrow(/authority's root key/);
  });

  it('issues a one-year CA under the authority root, installs it and swaps the running PKI at once', async () => {
    const { authorityPki, satellite, issued, holder, key } = await registered('Site A');
    const cert = new X509Certificate(issued.certificatePem);
    const root = new X509Certificate(authorityPki.rootCaPem);
    expect(cert.ca).toBe(true);
    expect(cert.subject).toContain('CN=smartlic satellite Site A');
    expect(cert.checkIssued(root) && cert.verify(root.publicKey)).toBe(true);
    expect(issued.chainPems).toEqual([]);
    expect(issued.notAfter).toBe(Date.parse(cert.validTo));
    expect(issued.notAfter - clock.now()).toBeGreaterThan(364 * DAY);
    expect(issued.notAfter - clock.now()).toBeLessThanOrEqual(365 * DAY);
    expect(cert.publicKey.export({ type: 'spki', format: 'pem' })).toBe(key.publicKeyPem);

    const pki = holder.current();
    expect(pki.signingCertPem.trim()).toBe(issued.certificatePem.trim());
    expect(pki.rootCaPem.trim()).toBe(authorityPki.rootCaPem.trim());
    expect(pki.chainPems).toEqual([]);
    expect(readFileSync(join(satellite, 'pki', 'root-ca.pem'), 'utf8').trim()).toBe(authorityPki.rootCaPem.trim());
    expect(existsSync(join(satellite, 'pki', 'root-ca.key'))).toBe(false);

    // The satellite issues ID certificates under its own CA.
    const device = generateKeyPair('ES256');
    const csr = await verifyCsr(await createCsr(device, 'CN=device'));
    const id = await issueIdCertificate(
      pki,
      csr,
      { instanceId: 'i-1', pid: 'P', sn: 'S', domain: 'd.example' },
      clock.now(),
    );
    expect(new X509Certificate(id.pem).checkIssued(cert)).toBe(true);
    expect(new X509Certificate(id.pem).verify(cert.publicKey)).toBe(true);
  });

  it('answers SATELLITE_NOT_REGISTERED (503, retryable) before a certificate is installed', () => {
    const holder = new PkiHolder(null);
    expect(holder.ready).toBe(false);
    let error: unknown;
    try {
      holder.current();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SmartlicError);
    expect(error).toMatchObject({ code: 'SATELLITE_NOT_REGISTERED', status: 503, retryable: true });
    expect((error as Error).message).toMatch(/^This satellite is not registered yet: run smartlic admin sync register/);
  });

  it('lets a registered satellite issue a child CA, with itself in the chain (authority → Sat1 → Sat3)', async () => {
    const { authorityPki, satellite: sat1, issued: sat1Ca } = await registered('Sat1');
    const issuer = await satelliteCaIssuer(sat1);
    expect(issuer.kind).toBe('satellite');
    const sat3 = newDir();
    const issued = await issueSatelliteCa({
      issuer,
      publicKeyPem: ensureSatelliteKey(sat3).publicKeyPem,
      satelliteName: 'Sat3',
      now: clock.now(),
    });
    expect(issued.chainPems.map((p) => p.trim())).toEqual([sat1Ca.certificatePem.trim()]);
    expect(issued.notAfter).toBeLessThanOrEqual(sat1Ca.notAfter);
    const holder = new PkiHolder(null);
    await installSatelliteCertificate(sat3, { rootCaPem: authorityPki.rootCaPem, ...issued, pki: holder });
    expect(holder.current().chainPems.map((p) => p.trim())).toEqual([sat1Ca.certificatePem.trim()]);
    const loaded = await loadSatellitePki({ dataDir: sat3 });
    expect(loaded?.signingCertSerial).toBe(holder.current().signingCertSerial);
    expect(loaded?.chainPems).toHaveLength(1);
  });

  it('renews in place with the same key, and the holder takes the new certificate', async () => {
    const { authority, authorityPki, satellite, holder, issued } = await registered();
    clock.advance(300 * DAY);
    const renewed = await issueSatelliteCa({
      issuer: await satelliteCaIssuer(authority),
      publicKeyPem: ensureSatelliteKey(satellite).publicKeyPem,
      satelliteName: 'site',
      now: clock.now(),
    });
    await installSatelliteCertificate(satellite, { rootCaPem: authorityPki.rootCaPem, ...renewed, pki: holder });
    expect(holder.current().signingNotAfter).toBe(renewed.notAfter);
    expect(holder.current().signingNotAfter).toBeGreaterThan(issued.notAfter);
  });

  it('refuses, changing nothing, a certificate for another key, a forged chain or another root', async () => {
    const { authorityPki, authority } = await registered();
    const fresh = newDir();
    ensureSatelliteKey(fresh);
    const otherKey = ensureSatelliteKey(newDir());
    const forAnother = await issueSatelliteCa({
      issuer: await satelliteCaIssuer(authority),
      publicKeyPem: otherKey.publicKeyPem,
      satelliteName: 'x',
      now: clock.now(),
    });
    await expect(
      installSatelliteCertificate(fresh, { rootCaPem: authorityPki.rootCaPem, ...forAnother }),
    ).rejects.toThrow(/issued to another satellite/);

    // A CA of another authority, passed off as an intermediate under ours.
    const rogueAuthority = newDir();
    await loadOrCreatePki({ dataDir: rogueAuthority, clock });
    const rogueIntermediate = newDir();
    const rogueCa = await issueSatelliteCa({
      issuer: await satelliteCaIssuer(rogueAuthority),
      publicKeyPem: ensureSatelliteKey(rogueIntermediate).publicKeyPem,
      satelliteName: 'rogue',
      now: clock.now(),
    });
    const forged = await issueSatelliteCa({
      issuer: await satelliteCaIssuer(rogueAuthority),
      publicKeyPem: ensureSatelliteKey(fresh).publicKeyPem,
      satelliteName: 'fresh',
      now: clock.now(),
    });
    await expect(
      installSatelliteCertificate(fresh, {
        rootCaPem: authorityPki.rootCaPem,
        certificatePem: forged.certificatePem,
        chainPems: [rogueCa.certificatePem],
      }),
    ).rejects.toThrow(/does not chain to the root/);
    await expect(installSatelliteCertificate(fresh, { rootCaPem: 'not a pem', ...forAnother })).rejects.toThrow(
      /not a readable PEM/,
    );
    expect(existsSync(join(fresh, 'pki', 'signing.pem'))).toBe(false);
    expect(existsSync(join(fresh, 'pki', 'root-ca.pem'))).toBe(false);
    expect(existsSync(join(fresh, 'pki', 'satellite-pending.key'))).toBe(true);
    expect(await loadSatellitePki({ dataDir: fresh })).toBeNull();
  });

  it('says why it cannot issue: a root key kept offline, a satellite not registered', async () => {
    const authority = newDir();
    await loadOrCreatePki({ dataDir: authority, clock });
    rmSync(join(authority, 'pki', 'root-ca.key'));
    await expect(satelliteCaIssuer(authority)).rejects.toThrow(/root key .* is missing/);
    const pending = newDir();
    ensureSatelliteKey(pending);
    await expect(satelliteCaIssuer(pending)).rejects.toThrow(/not registered yet/);
  });

  it('refuses to issue under an expired issuer, and never past the issuer', async () => {
    const { satellite: sat1, issued } = await registered('Sat1');
    const issuer = await satelliteCaIssuer(sat1);
    const later = issued.notAfter - 10 * DAY;
    const child = await issueSatelliteCa({
      issuer,
      publicKeyPem: ensureSatelliteKey(newDir()).publicKeyPem,
      satelliteName: 'c',
      now: later,
    });
    expect(child.notAfter).toBe(issued.notAfter);
    await expect(
      issueSatelliteCa({ issuer, publicKeyPem: child.certificatePem, satelliteName: 'c', now: issued.notAfter + 1 }),
    ).rejects.toThrow(/has expired/);
  });
});
