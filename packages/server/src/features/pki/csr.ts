import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { algorithmOfKey, type SignatureAlgorithm, SmartlicError } from '@smartlic/protocol';
import { importPublicJwkOffThread } from '../../crypto/off-thread-keys.js';
import { type CsrParts, canonicalSpkiJwk, ECDSA_SHA256, ED25519, splitCsr } from './der-template.js';

/** The key of a CSR, read strictly from the request (ADR 0008). */
export interface CsrKey {
  /** The device's public key as Node verifies signatures with it. */
  publicKey: KeyObject;
  /** SubjectPublicKeyInfo DER of that key, as Node writes it: what the ID certificate carries. */
  spki: Buffer;
  /** The same, base64: how the key is stored. */
  spkiBase64: string;
  alg: SignatureAlgorithm;
}

/** A CSR whose self-signature verified: its key, and the proof that the device holds the private key. */
export type VerifiedCsr = CsrKey;

// One PEM block and nothing else; linear to match (no nested or overlapping repetition).
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const PEM =
  /^\s*-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----([A-Za-z0-9+/=\s]*)-----END (?:NEW )?CERTIFICATE REQUEST-----\s*$/;

/**
 * Parses a PEM PKCS#10 request and checks its self-signature (proof that the device holds
 * the private key), with node:crypto on the thread pool (ADR 0008). Malformed or
 * unverifiable → `BAD_CSR`; a key other than ECDSA P-256 or Ed25519 → `UNSUPPORTED_ALGORITHM`.
 * The signature must be ecdsa-with-SHA256 for a P-256 key and Ed25519 for an Ed25519 key,
 * as the protocol's ES256 and Ed25519 are.
 */
export async function verifyCsr(pem: string): Promise<VerifiedCsr> {
  const parts = readCsr(pem);
  const key = await csrKeyOf(parts);
  if (!(await verifyAsync(parts, key.publicKey, key.alg))) throw badSignature();
  return key;
}

/**
 * The key of a PEM PKCS#10 request, read and checked as {@link verifyCsr} does — strict DER,
 * a P-256 or Ed25519 key, the key's own signature algorithm — but without verifying the
 * self-signature. Only for a message whose envelope must then verify with this key over a
 * payload that holds the CSR: that signature is the proof of possession (registration and the
 * trust code, ADR 0021). The caller must verify it before using the key for anything.
 */
export async function readCsrKey(pem: string): Promise<CsrKey> {
  return csrKeyOf(readCsr(pem));
}

async function csrKeyOf(parts: CsrParts): Promise<CsrKey> {
  const { publicKey, spki } = await readKey(parts.spki);
  let alg: SignatureAlgorithm;
  try {
    alg = algorithmOfKey(publicKey);
  } catch (cause) {
    const detail = publicKey.asymmetricKeyDetails?.namedCurve ?? publicKey.asymmetricKeyType ?? 'unknown';
    throw new SmartlicError('UNSUPPORTED_ALGORITHM', {
      message: `The certificate signing request holds a ${detail} key; use ECDSA P-256 (ES256) or Ed25519.`,
      cause,
    });
  }
  const expected = alg === 'Ed25519' ? ED25519 : ECDSA_SHA256;
  if (!parts.signatureAlgorithm.equals(expected)) throw badSignature();
  return { publicKey, spki, spkiBase64: spki.toString('base64'), alg };
}

function badSignature(): SmartlicError {
  return new SmartlicError('BAD_CSR', {
    message: 'The certificate signing request is not valid: its signature does not verify.',
  });
}

/**
 * The key of the request, and its SPKI as Node writes it. A key already in that form (what
 * devices send) is imported as a JWK, which is much faster — a P-256 one on a worker thread,
 * as OpenSSL checks the point with as much work as a signature (ADR 0021); any other form is
 * decoded from DER and written again.
 */
async function readKey(der: Buffer): Promise<{ publicKey: KeyObject; spki: Buffer }> {
  try {
    const jwk = canonicalSpkiJwk(der);
    if (jwk?.kty === 'EC') return { publicKey: await importPublicJwkOffThread(jwk), spki: Buffer.from(der) };
    if (jwk) return { publicKey: createPublicKey({ key: jwk, format: 'jwk' }), spki: Buffer.from(der) };
    const publicKey = createPublicKey({ key: der, format: 'der', type: 'spki' });
    return { publicKey, spki: publicKey.export({ type: 'spki', format: 'der' }) };
  } catch (cause) {
    throw new SmartlicError('BAD_CSR', {
      message: 'The certificate signing request is not valid: its public key cannot be read.',
      cause,
    });
  }
}

function readCsr(pem: string): CsrParts {
  const body = PEM.exec(pem)?.[1];
  try {
    const base64 = body?.replace(/\s/g, '') ?? '';
    if (!BASE64.test(base64) || base64.length % 4 !== 0) throw new Error('no PEM block of base64');
    return splitCsr(Buffer.from(base64, 'base64'));
  } catch (cause) {
    throw new SmartlicError('BAD_CSR', {
      message: 'The certificate signing request is not valid: it is not a PEM PKCS#10 request.',
      cause,
    });
  }
}

/** The self-signature check, off the event loop; false for any failure. */
function verifyAsync(parts: CsrParts, key: KeyObject, alg: SignatureAlgorithm): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      verify(alg === 'Ed25519' ? null : 'sha256', parts.info, key, parts.signature, (error, ok) =>
        resolve(!error && ok),
      );
    } catch {
      resolve(false);
    }
  });
}
