import { createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Envelope } from './messages.js';
import {
  assertEnvelope,
  generateKeyPair,
  keyPairFromPem,
  newNonce,
  privateKeyToPem,
  signEnvelope,
  verifyEnvelope,
} from './signing.js';
import { loadVectors } from './vectors.js';

describe('signed envelopes', () => {
  for (const v of loadVectors().signatures) {
    it(`vector: ${v.name}`, () => {
      expect(verifyEnvelope(v.envelope as Envelope, createPublicKey(v.publicKeyPem))).toBe(v.valid);
    });
  }

  for (const alg of ['ES256', 'Ed25519'] as const) {
    it(`${alg}: signs and verifies, and refuses any change`, () => {
      const pair = generateKeyPair(alg);
      const env = signEnvelope({ a: 1, list: [1, 2] }, pair.privateKey, 'abc');
      expect(env.signature.alg).toBe(alg);
      expect(verifyEnvelope(env, pair.publicKey)).toBe(true);
      expect(verifyEnvelope({ ...env, payload: { a: 2, list: [1, 2] } }, pair.publicKey)).toBe(false);
      expect(verifyEnvelope(env, generateKeyPair(alg).publicKey)).toBe(false);
      expect(() => assertEnvelope({ ...env, payload: { a: 1 } }, pair.publicKey)).toThrow(
        'data and signature do not match',
      );
    });
  }

  it('holds the payload as signed, in canonical order, which JSON.stringify then writes as signed', () => {
    const pair = generateKeyPair('ES256');
    const payload = { type: 'authorize', nonce: 'n', entitlements: [{ tag: 't', count: 1 }], skipped: undefined };
    const env = signEnvelope(payload, pair.privateKey, 'abc');
    expect(env.payload).toEqual({ entitlements: [{ count: 1, tag: 't' }], nonce: 'n', type: 'authorize' });
    expect(JSON.stringify(env.payload)).toBe('{"entitlements":[{"count":1,"tag":"t"}],"nonce":"n","type":"authorize"}');
    expect(verifyEnvelope(JSON.parse(JSON.stringify(env)) as Envelope, pair.publicKey)).toBe(true);
    expect(env.payload).not.toBe(payload);
  });

  it('never throws on garbage signatures', () => {
    const pair = generateKeyPair();
    const env = signEnvelope({ a: 1 }, pair.privateKey, 'abc');
    for (const value of ['', '!!!', 'A'.repeat(200)]) {
      expect(verifyEnvelope({ ...env, signature: { ...env.signature, value } }, pair.publicKey)).toBe(false);
    }
  });

  it('round-trips private keys through PEM', () => {
    const pair = generateKeyPair();
    const again = keyPairFromPem(privateKeyToPem(pair.privateKey));
    const env = signEnvelope({ x: 1 }, again.privateKey, 'abc');
    expect(verifyEnvelope(env, pair.publicKey)).toBe(true);
  });

  it('makes nonces that do not repeat', () => {
    const seen = new Set(Array.from({ length: 1000 }, newNonce));
    expect(seen.size).toBe(1000);
  });
});
