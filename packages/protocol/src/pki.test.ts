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

  describe('verifySignerChain through intermediates (satellites under satellites)', () => {
    const DAY_MS = 86_400_000;
    const now = Date.UTC(2026, 0, 1);
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
    const keys = () => webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
    let serial = 0x100;
    async function ca(
      name: string,
      own: CryptoKeyPair,
      issuer?: { name: string; keys: CryptoKeyPair },
      o: { ca?: boolean; from?: number; to?: number } = {},
    ): Promise<string> {
      x509.cryptoProvider.set(webcrypto as never);
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: (serial++).toString(16),
        subject: name,
        issuer: issuer?.name ?? name,
        notBefore: new Date(o.from ?? now - DAY_MS),
        notAfter: new Date(o.to ?? now + 365 * DAY_MS),
        publicKey: own.publicKey as never,
        signingKey: (issuer?.keys ?? own).privateKey as never,
        signingAlgorithm: alg,
        extensions: [new x509.BasicConstraintsExtension(o.ca ?? true, undefined, true)],
      });
      return cert.toString('pem');
    }
    async function pkiTree() {
      const rootKeys = await keys();
      const sat1Keys = await keys();
      const sat3Keys = await keys();
      const root = await ca('CN=root', rootKeys);
      const sat1 = await ca('CN=sat1', sat1Keys, { name: 'CN=root', keys: rootKeys });
      const sat3 = await ca('CN=sat3', sat3Keys, { name: 'CN=sat1', keys: sat1Keys });
      return { rootKeys, sat1Keys, sat3Keys, root, sat1, sat3 };
    }

    it('accepts a signer two levels down with its intermediate, and a signer directly under the root', async () => {
      const t = await pkiTree();
      expect(verifySignerChain(t.sat3, [t.root], now, [t.sat1]).subject).toBe('CN=sat3');
      expect(verifySignerChain(t.sat1, [t.root], now).subject).toBe('CN=sat1');
      expect(verifySignerChain(t.sat1, [t.root], now, [t.sat3]).subject).toBe('CN=sat1');
    });

    it('refuses a signer whose chain is missing, forged, not a CA or not valid now', async () => {
      const t = await pkiTree();
      expect(() => verifySignerChain(t.sat3, [t.root], now)).toThrow(/not issued by a trusted authority/);
      // Same name as Sat1, another key: the signature of Sat3 does not verify under it.
      const forged = await ca('CN=sat1', await keys(), { name: 'CN=root', keys: t.rootKeys });
      expect(() => verifySignerChain(t.sat3, [t.root], now, [forged])).toThrow(/not issued by a trusted authority/);
      // Sat1 as a self-made "intermediate" not issued by the root.
      const selfMade = await ca('CN=sat1', t.sat1Keys);
      expect(() => verifySignerChain(t.sat3, [t.root], now, [selfMade])).toThrow(/not issued by a trusted authority/);
      const notCa = await ca('CN=sat1', t.sat1Keys, { name: 'CN=root', keys: t.rootKeys }, { ca: false });
      expect(() => verifySignerChain(t.sat3, [t.root], now, [notCa])).toThrow(/is not a CA/);
      const expired = await ca('CN=sat1', t.sat1Keys, { name: 'CN=root', keys: t.rootKeys }, { to: now - DAY_MS });
      expect(() => verifySignerChain(t.sat3, [t.root], now, [expired])).toThrow(
        /intermediate certificate .* not valid now/,
      );
      expect(() => verifySignerChain(t.sat3, [t.root], now + 400 * DAY_MS, [t.sat1])).toThrow(/not valid now/);
    });

    it('walks at most four intermediates', async () => {
      const rootKeys = await keys();
      const root = await ca('CN=root', rootKeys);
      let parent = { name: 'CN=root', keys: rootKeys };
      const chain: string[] = [];
      for (let level = 1; level <= 6; level++) {
        const own = await keys();
        chain.unshift(await ca(`CN=level${level}`, own, parent));
        parent = { name: `CN=level${level}`, keys: own };
      }
      // chain[0] is level 6. Signer level 5 needs 4 intermediates: accepted; level 6 needs 5: refused.
      expect(verifySignerChain(chain[1]!, [root], now, chain.slice(2)).subject).toBe('CN=level5');
      expect(() => verifySignerChain(chain[0]!, [root], now, chain.slice(1))).toThrow(/not issued by a trusted/);
    });
  });
});
