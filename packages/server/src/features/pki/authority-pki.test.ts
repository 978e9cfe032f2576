import { X509Certificate } from 'node:crypto';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCsr, DAY, generateKeyPair, ManualClock, normalizeSerial, verifySignerChain } from '@smartlic/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir } from '../../test-support/temp-dir.js';
import { loadOrCreatePki } from './authority-pki.js';
import { verifyCsr } from './csr.js';
import { issueIdCertificate } from './id-certificate-issuer.js';
import { newCertificateSerial } from './serial.js';

describe('authority PKI', () => {
  let dir: ReturnType<typeof makeTempDir>;
  const clock = new ManualClock();
  const pkiFile = (name: string) => join(dir.path, 'pki', name);
  beforeEach(() => {
    dir = makeTempDir();
  });
  afterEach(() => dir.remove());

  it('creates a root CA and a signing sub-CA on the first start, and loads them later', async () => {
    const pki = await loadOrCreatePki({ dataDir: dir.path, clock });
    const root = new X509Certificate(pki.rootCaPem);
    const signing = new X509Certificate(pki.signingCertPem);

    expect(root.ca).toBe(true);
    expect(root.checkIssued(root)).toBe(true);
    expect(root.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(Date.parse(root.validTo) - clock.now()).toBeGreaterThanOrEqual(20 * 365 * DAY - 1000);

    expect(signing.ca).toBe(true);
    expect(signing.subject).toContain('CN=smartlic authority signing');
    expect(signing.checkIssued(root) && signing.verify(root.publicKey)).toBe(true);
    expect(Date.parse(signing.validTo) - clock.now()).toBeGreaterThanOrEqual(3 * 365 * DAY - 1000);
    expect(normalizeSerial(signing.serialNumber)).toBe(pki.signingCertSerial);
    expect(verifySignerChain(pki.signingCertPem, [pki.rootCaPem], clock.now()).serial).toBe(pki.signingCertSerial);

    for (const key of ['root-ca.key', 'signing.key']) expect(statSync(pkiFile(key)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir.path, 'pki')).mode & 0o777).toBe(0o700);

    const again = await loadOrCreatePki({ dataDir: dir.path, clock });
    expect(again.rootCaPem).toBe(pki.rootCaPem);
    expect(again.signingCertSerial).toBe(pki.signingCertSerial);
    expect(again.signingKey.export({ format: 'jwk' })).toEqual(pki.signingKey.export({ format: 'jwk' }));
  });

  it('pins the signing CA to pathLen 0', async () => {
    const pki = await loadOrCreatePki({ dataDir: dir.path, clock });
    const { x509 } = await import('./x509.js');
    const ext = new x509.X509Certificate(pki.signingCertPem).getExtension(x509.BasicConstraintsExtension);
    expect(ext).toMatchObject({ ca: true, pathLength: 0, critical: true });
  });

  it('runs with the root key kept offline, as long as the signing certificate exists', async () => {
    const pki = await loadOrCreatePki({ dataDir: dir.path, clock });
    rmSync(pkiFile('root-ca.key'));
    expect((await loadOrCreatePki({ dataDir: dir.path, clock })).signingCertSerial).toBe(pki.signingCertSerial);
    rmSync(pkiFile('signing.key'));
    await expect(loadOrCreatePki({ dataDir: dir.path, clock })).rejects.toThrow(/root-ca\.key is missing/);
  });

  it('completes a first start that stopped after the root key, and re-issues a half-written signing pair', async () => {
    await loadOrCreatePki({ dataDir: dir.path, clock });
    rmSync(pkiFile('root-ca.pem'));
    rmSync(pkiFile('signing.pem'));
    rmSync(pkiFile('signing.key'));
    const created = await loadOrCreatePki({ dataDir: dir.path, clock });
    expect(verifySignerChain(created.signingCertPem, [created.rootCaPem], clock.now())).toBeTruthy();

    rmSync(pkiFile('signing.pem'));
    const reissued = await loadOrCreatePki({ dataDir: dir.path, clock });
    expect(reissued.rootCaPem).toBe(created.rootCaPem);
    expect(reissued.signingCertSerial).not.toBe(created.signingCertSerial);
  });

  it('refuses PKI files that do not belong together', async () => {
    await loadOrCreatePki({ dataDir: dir.path, clock });
    writeFileSync(pkiFile('signing.key'), generateKeyPair().privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await expect(loadOrCreatePki({ dataDir: dir.path, clock })).rejects.toThrow(/signing\.key is not the key of/);
    rmSync(pkiFile('root-ca.pem'));
    await expect(loadOrCreatePki({ dataDir: dir.path, clock })).rejects.toThrow(/root-ca\.pem is missing/);
  });

  it('issues ID certificates with the instance, UDI and domain in the subject, valid 360 days', async () => {
    const pki = await loadOrCreatePki({ dataDir: dir.path, clock });
    const device = generateKeyPair();
    const csr = await verifyCsr(await createCsr(device, 'CN=ignored'));
    const instanceId = crypto.randomUUID();
    const issued = await issueIdCertificate(
      pki,
      csr,
      { instanceId, pid: 'C9300-24UX', sn: 'FCW2134L0RN', domain: 'acme.example' },
      clock.now(),
    );
    const cert = new X509Certificate(issued.pem);
    expect(cert.subject.split('\n')).toEqual([
      `CN=${instanceId}`,
      'serialNumber=PID:C9300-24UX SN:FCW2134L0RN',
      'O=acme.example',
    ]);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(new X509Certificate(pki.signingCertPem))).toBe(true);
    expect(cert.verify(new X509Certificate(pki.signingCertPem).publicKey)).toBe(true);
    expect(Date.parse(cert.validTo)).toBe(clock.now() + 360 * DAY);
    expect(issued.expiresAt).toBe(clock.now() + 360 * DAY);
    expect(normalizeSerial(cert.serialNumber)).toBe(issued.serial);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
  });
});

describe('certificate serials', () => {
  it('are 16 random bytes of lowercase hex whose first digit is 1–7', () => {
    const serials = new Set(Array.from({ length: 2000 }, newCertificateSerial));
    expect(serials.size).toBe(2000);
    for (const serial of serials) {
      expect(serial).toMatch(/^[1-7][0-9a-f]{31}$/);
      expect(normalizeSerial(serial)).toBe(serial);
    }
    const firstDigits = new Set([...serials].map((s) => s[0]));
    expect(firstDigits.size).toBe(7);
  });
});
