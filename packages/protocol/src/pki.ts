import { type KeyObject, webcrypto, X509Certificate } from 'node:crypto';
import { SmartlicError } from './errors.js';
import type { SignatureAlgorithm } from './messages.js';
import { algorithmOfKey, type KeyPair } from './signing.js';

let x509Module: Promise<typeof import('@peculiar/x509')> | undefined;

/**
 * @peculiar/x509 (with the reflect-metadata it needs), loaded on first use with Node's WebCrypto
 * as its provider. Only building a CSR needs it, so a device that is already registered never
 * loads it (it is most of the agent's resident memory otherwise).
 */
function loadX509(): Promise<typeof import('@peculiar/x509')> {
  x509Module ??= (async () => {
    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto as never);
    return x509;
  })();
  return x509Module;
}

/** WebCrypto parameters of each signature algorithm. */
export function webAlgorithm(alg: SignatureAlgorithm): { name: string; namedCurve?: string; hash?: string } {
  return alg === 'Ed25519' ? { name: 'Ed25519' } : { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
}

/** Converts a Node key pair into WebCrypto keys, as @peculiar/x509 needs them. */
export async function toWebKeys(
  pair: KeyPair,
): Promise<{ privateKey: webcrypto.CryptoKey; publicKey: webcrypto.CryptoKey }> {
  const alg = algorithmOfKey(pair.privateKey);
  const params = webAlgorithm(alg);
  const subtle = webcrypto.subtle;
  const privateKey = await subtle.importKey(
    'pkcs8',
    pair.privateKey.export({ type: 'pkcs8', format: 'der' }),
    params,
    true,
    ['sign'],
  );
  const publicKey = await subtle.importKey(
    'spki',
    pair.publicKey.export({ type: 'spki', format: 'der' }),
    params,
    true,
    ['verify'],
  );
  return { privateKey, publicKey };
}

/** Builds a PEM certificate signing request for `subject` (an X.500 name such as `CN=x`). */
export async function createCsr(pair: KeyPair, subject: string): Promise<string> {
  const [x509, keys] = await Promise.all([loadX509(), toWebKeys(pair)]);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subject,
    keys: keys as never,
    signingAlgorithm: webAlgorithm(algorithmOfKey(pair.privateKey)),
  });
  return csr.toString('pem');
}

/** A certificate's serial as our messages carry it: lowercase hex without leading zeros. */
export function normalizeSerial(serial: string): string {
  return serial.toLowerCase().replace(/^0+(?=.)/, '');
}

/** The facts of a certificate that the protocol needs. */
export interface CertificateInfo {
  serial: string;
  subject: string;
  issuer: string;
  notBefore: number;
  notAfter: number;
  publicKey: KeyObject;
  isCa: boolean;
  cert: X509Certificate;
}

/** Parses a PEM certificate; a malformed one is `SIGNATURE_MISMATCH` for the caller to report. */
export function parseCertificate(pem: string): CertificateInfo {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (cause) {
    throw new SmartlicError('SIGNATURE_MISMATCH', { message: 'The certificate is not valid PEM.', cause });
  }
  return {
    serial: normalizeSerial(cert.serialNumber),
    subject: cert.subject,
    issuer: cert.issuer,
    notBefore: Date.parse(cert.validFrom),
    notAfter: Date.parse(cert.validTo),
    publicKey: cert.publicKey,
    isCa: cert.ca,
    cert,
  };
}

/** Splits a PEM bundle into its certificates. */
export function splitPemBundle(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/**
 * Checks that `pem` is a CA certificate issued and signed by one of `anchors`, valid at
 * `now`. Returns its facts; throws `SIGNATURE_MISMATCH` with the reason otherwise.
 */
export function verifySignerChain(pem: string, anchors: readonly string[], now: number): CertificateInfo {
  const info = parseCertificate(pem);
  if (now < info.notBefore || now > info.notAfter) {
    throw new SmartlicError('SIGNATURE_MISMATCH', {
      message: `data and signature do not match: the signing certificate ${info.serial} is not valid now`,
    });
  }
  for (const anchorPem of anchors) {
    let anchor: X509Certificate;
    try {
      anchor = new X509Certificate(anchorPem);
    } catch {
      continue;
    }
    if (anchor.fingerprint256 === info.cert.fingerprint256 && info.isCa) return info;
    if (info.cert.checkIssued(anchor) && info.cert.verify(anchor.publicKey)) return info;
  }
  throw new SmartlicError('SIGNATURE_MISMATCH', {
    message: 'data and signature do not match: the signing certificate is not issued by a trusted authority',
  });
}
