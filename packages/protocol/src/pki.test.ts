import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import { createCsr, normalizeSerial, parseCertificate, splitPemBundle, verifySignerChain } from './pki.js';
import { generateKeyPair } from './signing.js';

describe('pki helpers', () => {
  it('builds CSRs for both algorithms that an independent PKCS #10 reader verifies', async () => {
    x509.cryptoProvider.set(webcrypto as never);
    for (const alg of ['ES256', 'Ed25519'] as const) {
      for (const [subject, commonName] of [
        ['CN=device', 'device'],
        ['CN=C9300-48P:FOC1234X0AB', 'C9300-48P:FOC1234X0AB'],
        ['CN=a\\,b\\+c\\=d\\"e\\\\f\\<g\\>h\\;i\\#j', 'a,b+c=d"e\\f<g>h;i#j'],
        ['CN=\\ padded\\ ', ' padded '],
        [`CN=${'x'.repeat(300)}`, 'x'.repeat(300)],
        ['CN=Ünïcødé', 'Ünïcødé'],
      ] as const) {
        const pair = generateKeyPair(alg);
        const pem = await createCsr(pair, subject);
        expect(pem).toMatch(
          /^-----BEGIN CERTIFICATE REQUEST-----\n([A-Za-z0-9+/=]{64}\n)*[A-Za-z0-9+/=]{1,64}\n-----END/,
        );
        const csr = new x509.Pkcs10CertificateRequest(pem);
        expect(await csr.verify()).toBe(true);
        expect(csr.subjectName.getField('CN')).toEqual([commonName]);
        const spki = Buffer.from(await csr.publicKey.export().then((k) => webcrypto.subtle.exportKey('spki', k)));
        expect(spki.equals(pair.publicKey.export({ type: 'spki', format: 'der' }))).toBe(true);
      }
    }
  });

  it('refuses a CSR subject that is not one common name', async () => {
    const pair = generateKeyPair('ES256');
    for (const subject of ['O=x', 'CN=a,O=b', 'CN=', 'CN=a=b', 'cn=x']) {
      await expect(createCsr(pair, subject)).rejects.toThrow(/one common name/);
    }
  });

  it('normalizes serials', () => {
    expect(normalizeSerial('00AB01')).toBe('ab01');
    expect(normalizeSerial('0')).toBe('0');
  });

  it('refuses a malformed certificate with one sentence', () => {
    expect(() => parseCertificate('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----')).toThrow(
      /not valid PEM/,
    );
    expect(() => verifySignerChain('garbage', [], Date.now())).toThrow(/not valid PEM/);
  });

  it('splits a PEM bundle', () => {
    const one = '-----BEGIN CERTIFICATE-----\nAA\n-----END CERTIFICATE-----';
    expect(splitPemBundle(`${one}\n${one}\n`)).toHaveLength(2);
  });
});
