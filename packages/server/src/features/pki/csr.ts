import { createPublicKey, type KeyObject } from 'node:crypto';
import { algorithmOfKey, type SignatureAlgorithm, SmartlicError } from '@smartlic/protocol';
import { x509 } from './x509.js';

/** A CSR whose self-signature verified. */
export interface VerifiedCsr {
  /** The device's public key as Node verifies signatures with it. */
  publicKey: KeyObject;
  /** The same key as @peculiar/x509 puts it in a certificate. */
  x509PublicKey: x509.PublicKey;
  /** SPKI DER, base64: how the key is stored. */
  spkiBase64: string;
  alg: SignatureAlgorithm;
}

/**
 * Parses a PEM PKCS#10 request and checks its self-signature (proof that the device holds
 * the private key). Malformed or unverifiable → `BAD_CSR`; a key other than ECDSA P-256 or
 * Ed25519 → `UNSUPPORTED_ALGORITHM`.
 */
export async function verifyCsr(pem: string): Promise<VerifiedCsr> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem);
  } catch (cause) {
    throw new SmartlicError('BAD_CSR', {
      message: 'The certificate signing request is not valid: it is not a PEM PKCS#10 request.',
      cause,
    });
  }
  const spki = Buffer.from(csr.publicKey.rawData);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch (cause) {
    throw new SmartlicError('BAD_CSR', {
      message: 'The certificate signing request is not valid: its public key cannot be read.',
      cause,
    });
  }
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
  let verified = false;
  try {
    verified = await csr.verify();
  } catch {
    verified = false;
  }
  if (!verified) {
    throw new SmartlicError('BAD_CSR', {
      message: 'The certificate signing request is not valid: its signature does not verify.',
    });
  }
  return { publicKey, x509PublicKey: csr.publicKey, spkiBase64: spki.toString('base64'), alg };
}
