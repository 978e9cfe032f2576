import { describe, expect, it } from 'vitest';
import { createCsr, normalizeSerial, parseCertificate, splitPemBundle, verifySignerChain } from './pki.js';
import { generateKeyPair } from './signing.js';

describe('pki helpers', () => {
  it('builds CSRs for both algorithms', async () => {
    for (const alg of ['ES256', 'Ed25519'] as const) {
      const pem = await createCsr(generateKeyPair(alg), 'CN=device');
      expect(pem).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----/);
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
