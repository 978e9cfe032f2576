import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { createCsr, generateKeyPair } from '@smartlic/protocol';
import { describe, expect, it } from 'vitest';
import { verifyCsr } from './csr.js';
import { x509 } from './x509.js';

type KeyGenParams = webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams;

async function csrWith(algorithm: KeyGenParams): Promise<string> {
  const keys = await webcrypto.subtle.generateKey(algorithm, false, ['sign', 'verify']);
  const signingAlgorithm = algorithm.name === 'ECDSA' ? { name: 'ECDSA', hash: 'SHA-384' } : algorithm;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: 'CN=x',
    keys: keys as never,
    signingAlgorithm,
  });
  return csr.toString('pem');
}

describe('verifyCsr', () => {
  it('accepts ECDSA P-256 and Ed25519 requests and returns the key', async () => {
    for (const alg of ['ES256', 'Ed25519'] as const) {
      const pair = generateKeyPair(alg);
      const csr = await verifyCsr(await createCsr(pair, 'CN=device'));
      expect(csr.alg).toBe(alg);
      expect(csr.publicKey.export({ type: 'spki', format: 'der' })).toEqual(
        pair.publicKey.export({ type: 'spki', format: 'der' }),
      );
      expect(Buffer.from(csr.spkiBase64, 'base64')).toEqual(pair.publicKey.export({ type: 'spki', format: 'der' }));
    }
  });

  it('refuses a request whose signature does not verify', async () => {
    const pem = await createCsr(generateKeyPair(), 'CN=device');
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.length - 3]! ^= 1;
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----`;
    await expect(verifyCsr(tampered)).rejects.toMatchObject({
      code: 'BAD_CSR',
      message: 'The certificate signing request is not valid: its signature does not verify.',
    });
  });

  it('refuses what is not a CSR', async () => {
    for (const pem of ['-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----', 'hello']) {
      await expect(verifyCsr(pem)).rejects.toMatchObject({ code: 'BAD_CSR' });
    }
  });

  it('refuses keys other than P-256 and Ed25519', async () => {
    const rsa = await csrWith({
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    });
    await expect(verifyCsr(rsa)).rejects.toMatchObject({
      code: 'UNSUPPORTED_ALGORITHM',
      message: expect.stringMatching(/rsa/),
    });
    const p384 = await csrWith({ name: 'ECDSA', namedCurve: 'P-384' });
    await expect(verifyCsr(p384)).rejects.toMatchObject({ code: 'UNSUPPORTED_ALGORITHM' });
  });
});
