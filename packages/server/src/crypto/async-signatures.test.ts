import { canonicalBytes, generateKeyPair, signBytes, verifyBytes } from '@smartlic/protocol';
import { describe, expect, it } from 'vitest';
import { signBytesAsync, verifyBytesAsync } from './async-signatures.js';

describe('signatures on the thread pool', () => {
  const bytes = canonicalBytes({ type: 'authorize', nonce: 'AAECAwQFBgcICQoLDA0ODw', n: [1, 2, 3] });

  for (const alg of ['ES256', 'Ed25519'] as const) {
    it(`${alg}: agrees with protocol's signBytes and verifyBytes`, async () => {
      const pair = generateKeyPair(alg);
      const mine = await signBytesAsync(bytes, pair.privateKey);
      expect(verifyBytes(bytes, mine, pair.publicKey, alg)).toBe(true);
      const theirs = signBytes(bytes, pair.privateKey, alg);
      expect(await verifyBytesAsync(bytes, theirs, pair.publicKey, alg)).toBe(true);
      if (alg === 'ES256') expect(mine).toHaveLength(64);
    });
  }

  it('answers false, never throws, for wrong keys, algorithms and signatures', async () => {
    const pair = generateKeyPair('ES256');
    const signature = signBytes(bytes, pair.privateKey, 'ES256');
    expect(await verifyBytesAsync(bytes, signature, generateKeyPair('ES256').publicKey, 'ES256')).toBe(false);
    expect(await verifyBytesAsync(bytes, signature, pair.publicKey, 'Ed25519')).toBe(false);
    expect(await verifyBytesAsync(bytes, signature.subarray(0, 20), pair.publicKey, 'ES256')).toBe(false);
    expect(await verifyBytesAsync(bytes, Buffer.alloc(0), pair.publicKey, 'ES256')).toBe(false);
    expect(await verifyBytesAsync(Buffer.from('other'), signature, pair.publicKey, 'ES256')).toBe(false);
  });
});
