import { type KeyObject, sign, webcrypto, X509Certificate } from 'node:crypto';
import { SmartlicError } from './errors.js';
import type { SignatureAlgorithm } from './messages.js';
import { algorithmOfKey, type KeyPair } from './signing.js';
import { MAX_CHAIN_INTERMEDIATES } from './wire.js';

/** WebCrypto parameters of each signature algorithm. */
export function webAlgorithm(alg: SignatureAlgorithm): { name: string; namedCurve?: string; hash?: string } {
  return alg === 'Ed25519' ? { name: 'Ed25519' } : { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
}

/** Converts a Node key pair into WebCrypto keys, as @peculiar/x509 needs them (the server and tests). */
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

/**
 * Builds a PEM certificate signing request (PKCS #10, RFC 2986) for `subject`, which must be a
 * single common name, `CN=<value>` with RFC 4514 escapes; signed with ECDSA-SHA256 (P-256) or
 * Ed25519 by the pair's private key. Written with node:crypto and a few lines of DER rather than
 * @peculiar/x509, which would add about 10 MB to the agent each time it renews (ADR 0005).
 */
export async function createCsr(pair: KeyPair, subject: string): Promise<string> {
  const alg = algorithmOfKey(pair.privateKey);
  const commonName = parseCommonName(subject);
  const name = der(0x30, der(0x31, der(0x30, OID_COMMON_NAME, der(0x0c, Buffer.from(commonName, 'utf8')))));
  const spki = pair.publicKey.export({ type: 'spki', format: 'der' });
  const info = der(0x30, der(0x02, Buffer.from([0])), name, spki, der(0xa0));
  const signature = sign(alg === 'Ed25519' ? null : 'sha256', info, pair.privateKey);
  const algorithm = der(0x30, alg === 'Ed25519' ? OID_ED25519 : OID_ECDSA_SHA256);
  const request = der(0x30, info, algorithm, der(0x03, Buffer.from([0]), signature));
  const lines = request.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE REQUEST-----\n${lines.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
}

const OID_COMMON_NAME = Buffer.from('0603550403', 'hex'); // 2.5.4.3
const OID_ECDSA_SHA256 = Buffer.from('06082a8648ce3d040302', 'hex'); // 1.2.840.10045.4.3.2
const OID_ED25519 = Buffer.from('06032b6570', 'hex'); // 1.3.101.112

/** One DER element: tag, definite length, contents. */
function der(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  const n = body.length;
  const length =
    n < 0x80
      ? [n]
      : n < 0x100
        ? [0x81, n]
        : n < 0x10000
          ? [0x82, n >> 8, n & 0xff]
          : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), body]);
}

/** The value of `CN=<value>` (RFC 4514 escapes undone); anything else is refused. */
function parseCommonName(subject: string): string {
  const match = /^CN=((?:[^\\,+=";<>#]|\\.)+)$/s.exec(subject);
  if (!match?.[1]) throw new TypeError(`a CSR subject must be one common name, CN=…; got ${JSON.stringify(subject)}`);
  return match[1].replace(/\\(.)/gs, '$1');
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
 * Checks that `pem` is a CA certificate valid at `now` that chains to one of `anchors`: issued
 * and signed by an anchor directly (or an anchor itself), or through `intermediates` — the
 * `chain` a satellite's response carries, nearest the signer first, in any order — each of
 * them a CA certificate valid at `now`, at most {@link MAX_CHAIN_INTERMEDIATES} of them.
 * Returns the signer's facts; throws `SIGNATURE_MISMATCH` with the reason otherwise.
 */
export function verifySignerChain(
  pem: string,
  anchors: readonly string[],
  now: number,
  intermediates: readonly string[] = [],
): CertificateInfo {
  const info = parseCertificate(pem);
  assertValidNow(info, now, 'the signing certificate');
  const trusted = parseAnchors(anchors);
  const pool = intermediates.slice(0, MAX_CHAIN_INTERMEDIATES).map((c) => parseCertificate(c));
  let current = info;
  for (let depth = 0; ; depth++) {
    if (trusted.some((anchor) => isAnchoredBy(current, anchor))) return info;
    const next = depth < MAX_CHAIN_INTERMEDIATES ? pool.find((c) => issued(current.cert, c.cert)) : undefined;
    if (!next) break;
    if (!next.isCa) {
      throw new SmartlicError('SIGNATURE_MISMATCH', {
        message: `data and signature do not match: the intermediate certificate ${next.serial} is not a CA`,
      });
    }
    assertValidNow(next, now, `the intermediate certificate ${next.serial}`);
    pool.splice(pool.indexOf(next), 1);
    current = next;
  }
  throw new SmartlicError('SIGNATURE_MISMATCH', {
    message: 'data and signature do not match: the signing certificate is not issued by a trusted authority',
  });
}

function assertValidNow(info: CertificateInfo, now: number, what: string): void {
  if (now < info.notBefore || now > info.notAfter) {
    const name = what === 'the signing certificate' ? `${what} ${info.serial}` : what;
    throw new SmartlicError('SIGNATURE_MISMATCH', {
      message: `data and signature do not match: ${name} is not valid now`,
    });
  }
}

function parseAnchors(anchors: readonly string[]): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (const pem of anchors) {
    try {
      out.push(new X509Certificate(pem));
    } catch {
      // An unreadable trust point trusts nothing.
    }
  }
  return out;
}

/** `info` is the anchor itself (and a CA), or was issued and signed by it. */
function isAnchoredBy(info: CertificateInfo, anchor: X509Certificate): boolean {
  return (anchor.fingerprint256 === info.cert.fingerprint256 && info.isCa) || issued(info.cert, anchor);
}

function issued(child: X509Certificate, parent: X509Certificate): boolean {
  return child.checkIssued(parent) && child.verify(parent.publicKey);
}
