import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { algorithmOfKey, type SignatureAlgorithm, SmartlicError } from '@smartlic/protocol';
import { type CsrParts, canonicalSpkiJwk, ECDSA_SHA256, ED25519, splitCsr } from './der-template.js';

/** A CSR whose self-signature verified. */
export interface VerifiedCsr {
  /** The device's public key as Node verifies signatures with it. */
  publicKey: KeyObject;
  /** SubjectPublicKeyInfo DER of that key, as Node writes it: what the ID certificate carries. */
  spki: Buffer;
  /** The same, base64: how the key is stored. */
  spkiBase64: string;
  alg: SignatureAlgorithm;
}

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
  const { publicKey, spki } = readKey(parts.spki);
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
  if (!parts.signatureAlgorithm.equals(expected) || !(await verifyAsync(parts, publicKey, alg))) {
    throw new SmartlicError('BAD_CSR', {
      message: 'The certificate signing request is not valid: its signature does not verify.',
    });
  }
  return { publicKey, spki, spkiBase64: spki.toString('base64'), alg };
}

/**
 * The key of the request, and its SPKI as Node writes it. A key already in that form (what
 * devices send) is imported as a JWK, which is much faster; any other form is decoded from
 * DER and written again.
 */
function readKey(der: Buffer): { publicKey: KeyObject; spki: Buffer } {
  try {
    const jwk = canonicalSpkiJwk(der);
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
