import { type KeyObject, sign, verify } from 'node:crypto';
import { algorithmOfKey, type SignatureAlgorithm } from '@smartlic/protocol';
import { p1363ToDer } from '../features/pki/der-template.js';

// The same signatures as protocol's `signBytes`/`verifyBytes` (ES256 in the 64-byte IEEE
// P1363 form, Ed25519 raw), computed on libuv's thread pool: the main thread hands the
// ECDSA work to another core and goes on parsing and answering other requests. On the
// device hot path this moves ~90% of the crypto cost off the event loop.

/** Verifies `signature` over `bytes`; false (never a rejection) for any mismatch of key, algorithm or signature. */
export function verifyBytesAsync(
  bytes: Uint8Array,
  signature: Uint8Array,
  key: KeyObject,
  alg: SignatureAlgorithm,
): Promise<boolean> {
  let keyAlg: SignatureAlgorithm;
  try {
    keyAlg = algorithmOfKey(key);
  } catch {
    return Promise.resolve(false);
  }
  if (keyAlg !== alg) return Promise.resolve(false);
  // ES256 is handed over as DER: node's own P1363 conversion costs the event loop more.
  const der = alg === 'Ed25519' ? signature : p1363ToDer(signature);
  if (der === undefined) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (error: Error | null, ok: boolean) => resolve(!error && ok);
    try {
      if (alg === 'Ed25519') verify(null, bytes, key, der, done);
      else verify('sha256', bytes, key, der, done);
    } catch {
      resolve(false);
    }
  });
}

/** Signs `bytes` with `key` in the algorithm of the key. */
export function signBytesAsync(bytes: Uint8Array, key: KeyObject): Promise<Buffer> {
  const alg = algorithmOfKey(key);
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, signature: Buffer) => (error ? reject(error) : resolve(signature));
    if (alg === 'Ed25519') sign(null, bytes, key, done);
    else sign('sha256', bytes, { key, dsaEncoding: 'ieee-p1363' }, done);
  });
}
