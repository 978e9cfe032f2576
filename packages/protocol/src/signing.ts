import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { canonicalBytes, canonicalize } from './canonical.js';
import { SmartlicError } from './errors.js';
import type { Envelope, SignatureAlgorithm } from './messages.js';

/** A key pair held as Node key objects. */
export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** Generates a key pair for `alg` (ES256 = ECDSA P-256 by default; Ed25519 supported). */
export function generateKeyPair(alg: SignatureAlgorithm = 'ES256'): KeyPair {
  return alg === 'Ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

/** The signature algorithm a key is for; keys of any other kind are refused. */
export function algorithmOfKey(key: KeyObject): SignatureAlgorithm {
  if (key.asymmetricKeyType === 'ed25519') return 'Ed25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw new SmartlicError('UNSUPPORTED_ALGORITHM', { context: { keyType: key.asymmetricKeyType } });
}

/** PKCS#8 PEM of a private key. */
export function privateKeyToPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** Reads a PKCS#8 PEM private key and derives its public key. */
export function keyPairFromPem(pem: string): KeyPair {
  const privateKey = createPrivateKey(pem);
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** Signs raw bytes with `key`; ES256 signatures are the 64-byte IEEE P1363 form. */
export function signBytes(bytes: Uint8Array, key: KeyObject, alg: SignatureAlgorithm = algorithmOfKey(key)): Buffer {
  return alg === 'Ed25519' ? sign(null, bytes, key) : sign('sha256', bytes, { key, dsaEncoding: 'ieee-p1363' });
}

/** Verifies raw bytes; false (never a throw) for any mismatch of key, algorithm or signature. */
export function verifyBytes(
  bytes: Uint8Array,
  signature: Uint8Array,
  key: KeyObject,
  alg: SignatureAlgorithm,
): boolean {
  try {
    if (algorithmOfKey(key) !== alg) return false;
    return alg === 'Ed25519'
      ? verify(null, bytes, key, signature)
      : verify('sha256', bytes, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}

/**
 * Wraps a payload in a signed envelope; the signature covers the payload's canonical bytes. The
 * envelope holds the payload as signed, its members in canonical order: a receiver verifies the
 * canonical form of what it parsed, and one in that order already is written at once (a server
 * answering thousands of devices a second spends less on each).
 */
export function signEnvelope<P extends object>(payload: P, key: KeyObject, certSerial: string): Envelope<P> {
  const alg = algorithmOfKey(key);
  const text = canonicalize(payload);
  const value = signBytes(Buffer.from(text, 'utf8'), key, alg).toString('base64url');
  return { payload: JSON.parse(text) as P, signature: { alg, certSerial, value } };
}

/** True when the envelope's signature verifies against `publicKey` over the canonical payload. */
export function verifyEnvelope(envelope: Envelope<unknown>, publicKey: KeyObject): boolean {
  let bytes: Buffer;
  try {
    bytes = canonicalBytes(envelope.payload);
  } catch {
    return false;
  }
  return verifyBytes(bytes, Buffer.from(envelope.signature.value, 'base64url'), publicKey, envelope.signature.alg);
}

/** Verifies an envelope or throws `SIGNATURE_MISMATCH` ("data and signature do not match"). */
export function assertEnvelope(envelope: Envelope<unknown>, publicKey: KeyObject): void {
  if (!verifyEnvelope(envelope, publicKey)) throw new SmartlicError('SIGNATURE_MISMATCH');
}

/** A fresh nonce: 128 random bits, base64url. */
export function newNonce(): string {
  return randomBytes(16).toString('base64url');
}
