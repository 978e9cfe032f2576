import { createHash, type JsonWebKey } from 'node:crypto';

// The one module where the server reads and writes DER by hand (ADR 0008). @peculiar/x509
// issues about 200 ID certificates a second where node:crypto signs 22,000, so the hot
// paths of registration and ID renewal use this instead:
//
//  - an ID certificate is a fixed template (issuer, signature algorithm, extensions, layout,
//    taken from the signing certificate once) with only the serial, the validity, the
//    subject and the device's public key filled in;
//  - a PKCS #10 request is split into the bytes its self-signature covers, its public key,
//    its signature algorithm and its signature, and nothing more is read from it.
//
// The output is byte for byte what @peculiar/x509 writes for the same inputs (the tests
// compare the two, and check the result with node's X509Certificate and `openssl verify`).
// Nothing here decides policy: which keys, algorithms and subject texts are allowed is
// decided by csr.ts and id-certificate-issuer.ts.

/** Thrown for DER that is malformed, not strict DER, or not the structure asked for. */
export class DerError extends Error {
  override name = 'DerError';
}

// --- writing ----------------------------------------------------------------------------

/** One DER element: tag, definite length in its shortest form, contents. */
export function der(tag: number, ...contents: Buffer[]): Buffer {
  const body = contents.length === 1 ? contents[0]! : Buffer.concat(contents);
  const n = body.length;
  const header =
    n < 0x80
      ? [tag, n]
      : n < 0x100
        ? [tag, 0x81, n]
        : n < 0x10000
          ? [tag, 0x82, n >> 8, n & 0xff]
          : [tag, 0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return Buffer.concat([Buffer.from(header), body]);
}

const SEQUENCE = 0x30;
const SET = 0x31;
const INTEGER = 0x02;
const BIT_STRING = 0x03;
const OCTET_STRING = 0x04;
const OID = 0x06;
const UTF8_STRING = 0x0c;
const PRINTABLE_STRING = 0x13;
const UTC_TIME = 0x17;
const GENERALIZED_TIME = 0x18;

const oid = (hex: string) => der(OID, Buffer.from(hex, 'hex'));
const TRUE = Buffer.from('0101ff', 'hex');
const ZERO = Buffer.from([0]);

/** ecdsa-with-SHA256 (1.2.840.10045.4.3.2), no parameters: how the authority signs certificates. */
export const ECDSA_SHA256 = der(SEQUENCE, oid('2a8648ce3d040302'));
/** Ed25519 (1.3.101.112), no parameters. */
export const ED25519 = der(SEQUENCE, oid('2b6570'));

const OID_CN = oid('550403'); // 2.5.4.3 commonName
const OID_SERIAL_NUMBER = oid('550405'); // 2.5.4.5 serialNumber
const OID_O = oid('55040a'); // 2.5.4.10 organizationName

// The fixed extensions of an ID certificate, in the order @peculiar/x509 writes them.
const extension = (oidHex: string, critical: boolean, value: Buffer) =>
  der(SEQUENCE, oid(oidHex), ...(critical ? [TRUE] : []), der(OCTET_STRING, value));
/** basicConstraints, critical: not a CA (cA FALSE is the default, so an empty SEQUENCE). */
const BASIC_CONSTRAINTS = extension('551d13', true, der(SEQUENCE));
/** keyUsage, critical: digitalSignature only (bit 0; 7 unused bits). */
const KEY_USAGE = extension('551d0f', true, der(BIT_STRING, Buffer.from([0x07, 0x80])));
/** extKeyUsage: clientAuth (1.3.6.1.5.5.7.3.2). */
const EXT_KEY_USAGE = extension('551d25', false, der(SEQUENCE, oid('2b06010505070302')));
const VERSION_3 = der(0xa0, der(INTEGER, Buffer.from([2])));

/** The parts of an ID certificate that one signing certificate fixes. */
export interface IdCertificateTemplate {
  /** The AlgorithmIdentifier of the signature (ecdsa-with-SHA256). */
  signatureAlgorithm: Buffer;
  /** The signing certificate's subject Name, as its DER: the ID certificate's issuer. */
  issuer: Buffer;
  /** The authorityKeyIdentifier extension: SHA-1 of the signing certificate's public key bits. */
  authorityKeyIdentifier: Buffer;
}

/**
 * Reads the template from the signing certificate's DER: its subject becomes the issuer,
 * its key the authority key identifier. Only ECDSA P-256 signing certificates are used by
 * the authority; the caller checks the key, this function reads the certificate.
 */
export function idCertificateTemplate(signingCertDer: Buffer): IdCertificateTemplate {
  const cert = children(signingCertDer, readOne(signingCertDer, SEQUENCE));
  const tbs = children(signingCertDer, expectTag(cert[0], SEQUENCE));
  const fields = tbs[0]?.tag === 0xa0 ? tbs.slice(1) : tbs; // [0] version is optional
  const subject = expectTag(fields[4], SEQUENCE);
  const spki = expectTag(fields[5], SEQUENCE);
  return {
    signatureAlgorithm: ECDSA_SHA256,
    issuer: Buffer.from(bytesOf(signingCertDer, subject)),
    authorityKeyIdentifier: extension(
      '551d23',
      false,
      der(SEQUENCE, der(0x80, keyIdentifier(bytesOf(signingCertDer, spki)))),
    ),
  };
}

/** What is filled into the template for one device. */
export interface IdCertificateFields {
  /** Lowercase hex, 16 bytes, first digit 1–7 (`newCertificateSerial`): a positive INTEGER as it is. */
  serialHex: string;
  /** Whole seconds, ms since the epoch. */
  notBefore: number;
  notAfter: number;
  /** Subject attributes, in order: CN, serialNumber, O. Text only (see `directoryString`). */
  commonName: string;
  serialNumber: string;
  organization: string;
  /** The device's SubjectPublicKeyInfo, DER. */
  spki: Buffer;
}

/** The TBSCertificate of an ID certificate: the bytes the signing key signs. */
export function idCertificateTbs(template: IdCertificateTemplate, fields: IdCertificateFields): Buffer {
  const serial = Buffer.from(fields.serialHex, 'hex');
  if (serial.length !== 16 || serial[0]! < 0x10 || serial[0]! >= 0x80) {
    throw new DerError('an ID certificate serial is 16 bytes whose first hex digit is 1–7');
  }
  const subject = der(
    SEQUENCE,
    rdn(OID_CN, fields.commonName),
    rdn(OID_SERIAL_NUMBER, fields.serialNumber),
    rdn(OID_O, fields.organization),
  );
  const extensions = der(
    0xa3,
    der(
      SEQUENCE,
      BASIC_CONSTRAINTS,
      KEY_USAGE,
      EXT_KEY_USAGE,
      extension('551d0e', false, der(OCTET_STRING, keyIdentifier(fields.spki))),
      template.authorityKeyIdentifier,
    ),
  );
  return der(
    SEQUENCE,
    VERSION_3,
    der(INTEGER, serial),
    template.signatureAlgorithm,
    template.issuer,
    der(SEQUENCE, time(fields.notBefore), time(fields.notAfter)),
    subject,
    fields.spki,
    extensions,
  );
}

/** The certificate: TBS, algorithm, signature (for ECDSA the DER Ecdsa-Sig-Value node:crypto gives). */
export function certificateDer(template: IdCertificateTemplate, tbs: Buffer, signature: Buffer): Buffer {
  return der(SEQUENCE, tbs, template.signatureAlgorithm, der(BIT_STRING, Buffer.from([0]), signature));
}

/** PEM of a certificate, 64 characters a line, as @peculiar/x509 writes it. */
export function certificatePem(certDer: Buffer): string {
  const lines = certDer.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----`;
}

/** One single-valued RDN: SET { SEQUENCE { type, value } }. */
function rdn(type: Buffer, value: string): Buffer {
  return der(SET, der(SEQUENCE, type, directoryString(value)));
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * A DirectoryString as @peculiar/x509 chooses it: PrintableString when every character is in
 * its set, UTF8String otherwise. A lone surrogate has no UTF-8 form and is refused.
 */
function directoryString(value: string): Buffer {
  if (LONE_SURROGATE.test(value)) throw new DerError('a subject value must be well-formed Unicode text');
  return der(PRINTABLE.test(value) ? PRINTABLE_STRING : UTF8_STRING, Buffer.from(value, 'utf8'));
}

/**
 * The last times written: certificates issued within the same second share their validity
 * times, and formatting a date cost a registration more than signing's hand-off (issue 15).
 * The buffers are only ever copied into a certificate, never written to.
 */
const recentTimes = new Map<number, Buffer>();

/** RFC 5280 §4.1.2.5: UTCTime for 1950–2049, GeneralizedTime otherwise; always whole seconds, Z. */
function time(ms: number): Buffer {
  const known = recentTimes.get(ms);
  if (known) return known;
  const written = formatTime(ms);
  if (recentTimes.size >= 16) recentTimes.clear();
  recentTimes.set(ms, written);
  return written;
}

function formatTime(ms: number): Buffer {
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  if (!Number.isFinite(ms) || ms % 1000 !== 0 || year < 1950 || year > 9999) {
    throw new DerError(`a certificate time must be whole seconds within 1950–9999, not ${ms}`);
  }
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  return year < 2050
    ? der(UTC_TIME, Buffer.from(`${digits.slice(2)}Z`, 'latin1'))
    : der(GENERALIZED_TIME, Buffer.from(`${digits}Z`, 'latin1'));
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits of a SubjectPublicKeyInfo. */
function keyIdentifier(spki: Buffer): Buffer {
  const parts = children(spki, readOne(spki, SEQUENCE));
  const bits = expectTag(parts[1], BIT_STRING);
  if (bits.end - bits.start < 1 || spki[bits.start] !== 0)
    throw new DerError('a public key BIT STRING has unused bits');
  return createHash('sha1')
    .update(spki.subarray(bits.start + 1, bits.end))
    .digest();
}

// --- device keys ------------------------------------------------------------------------

// The SubjectPublicKeyInfo Node writes for an uncompressed P-256 point and for an Ed25519 key:
// a fixed prefix and the key bytes.
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
/** The prime of P-256's field: a coordinate must be below it. */
const P256_PRIME = Buffer.from('ffffffff00000001000000000000000000000000ffffffffffffffffffffffff', 'hex');

/**
 * The JWK of a SubjectPublicKeyInfo that is in the very form Node writes for an ECDSA P-256
 * key (uncompressed point) or an Ed25519 key; undefined for any other form, which the caller
 * reads the slow way. OpenSSL 3 imports a JWK three times faster than it decodes the same
 * key from DER (and an Ed25519 key forty times), and the DER is already canonical, so it need
 * not be written again. Whether the point is on the curve is checked by the import.
 */
export function canonicalSpkiJwk(spki: Buffer): JsonWebKey | undefined {
  if (spki.length === 91 && spki.subarray(0, 26).equals(P256_SPKI_PREFIX) && spki[26] === 0x04) {
    const x = spki.subarray(27, 59);
    const y = spki.subarray(59, 91);
    if (Buffer.compare(x, P256_PRIME) >= 0 || Buffer.compare(y, P256_PRIME) >= 0) return undefined;
    return { kty: 'EC', crv: 'P-256', x: x.toString('base64url'), y: y.toString('base64url') };
  }
  if (spki.length === 44 && spki.subarray(0, 12).equals(ED25519_SPKI_PREFIX)) {
    return { kty: 'OKP', crv: 'Ed25519', x: spki.subarray(12).toString('base64url') };
  }
  return undefined;
}

// --- signatures -------------------------------------------------------------------------

/**
 * An ES256 signature in the 64-byte IEEE P1363 form the protocol carries (r ‖ s) as the DER
 * `SEQUENCE { INTEGER r, INTEGER s }` OpenSSL reads natively; undefined when it is not 64 bytes.
 * Node accepts P1363 too, but converts it on the event loop at three times the cost of handing
 * DER to the thread pool, on every device message (issue 15). Held to node's own conversion
 * in `der-template.test.ts`.
 */
export function p1363ToDer(signature: Uint8Array): Buffer | undefined {
  if (signature.length !== 64) return undefined;
  return der(SEQUENCE, derUnsigned(signature.subarray(0, 32)), derUnsigned(signature.subarray(32)));
}

/** A DER INTEGER of the unsigned big-endian `bytes`: leading zeros dropped, a 0 put back before a high bit. */
function derUnsigned(bytes: Uint8Array): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const magnitude = Buffer.from(bytes.subarray(start));
  return magnitude[0]! & 0x80 ? der(INTEGER, ZERO, magnitude) : der(INTEGER, magnitude);
}

// --- reading ----------------------------------------------------------------------------

/** One element read from a buffer: its tag, where its header starts, where its contents start and end. */
export interface DerElement {
  tag: number;
  offset: number;
  start: number;
  end: number;
}

/**
 * Reads the element at `offset`, which must end at or before `limit`. Strict DER only: a
 * low tag number, a definite length in its shortest form.
 */
export function readElement(buf: Buffer, offset: number, limit = buf.length): DerElement {
  if (offset + 2 > limit) throw new DerError('truncated DER');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('high tag numbers are not used here');
  const first = buf[offset + 1]!;
  let length = first;
  let start = offset + 2;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 3) throw new DerError('indefinite or oversized DER length');
    if (start + count > limit) throw new DerError('truncated DER');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[start + i]!;
    if (buf[start] === 0 || length < 0x80) throw new DerError('DER length not in its shortest form');
    start += count;
  }
  const end = start + length;
  if (end > limit) throw new DerError('truncated DER');
  return { tag, offset, start, end };
}

/** Reads the element that must fill the whole of `buf`, with tag `tag`. */
export function readOne(buf: Buffer, tag: number): DerElement {
  const element = expectTag(readElement(buf, 0), tag);
  if (element.end !== buf.length) throw new DerError('bytes after the DER element');
  return element;
}

/** The elements inside a constructed element, which must fill it exactly. */
export function children(buf: Buffer, parent: DerElement): DerElement[] {
  if (!(parent.tag & 0x20)) throw new DerError('not a constructed DER element');
  const out: DerElement[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const child = readElement(buf, at, parent.end);
    out.push(child);
    at = child.end;
  }
  return out;
}

/** `element`, if it exists and has tag `tag`. */
export function expectTag(element: DerElement | undefined, tag: number): DerElement {
  if (!element || element.tag !== tag) throw new DerError(`expected DER tag 0x${tag.toString(16)}`);
  return element;
}

/** The whole element (header and contents) as a view of `buf`. */
export function bytesOf(buf: Buffer, element: DerElement): Buffer {
  return buf.subarray(element.offset, element.end);
}

/** The parts of a PKCS #10 request (RFC 2986) that a self-signature check needs. */
export interface CsrParts {
  /** CertificationRequestInfo, DER: what the signature covers. */
  info: Buffer;
  /** SubjectPublicKeyInfo, DER. */
  spki: Buffer;
  /** The signature's AlgorithmIdentifier, DER. */
  signatureAlgorithm: Buffer;
  /** The signature bits (a BIT STRING without unused bits). */
  signature: Buffer;
}

/**
 * Splits a DER PKCS #10 request: SEQUENCE { info SEQUENCE { version 0, subject Name, spki,
 * [0] attributes }, AlgorithmIdentifier, BIT STRING }. The subject and attributes are not
 * read (the authority decides the certificate's subject). Throws `DerError` for anything else.
 */
export function splitCsr(request: Buffer): CsrParts {
  const top = children(request, readOne(request, SEQUENCE));
  if (top.length !== 3) throw new DerError('a CSR has three parts');
  const info = expectTag(top[0], SEQUENCE);
  const fields = children(request, info);
  if (fields.length !== 4) throw new DerError('a CSR info has four parts');
  const version = expectTag(fields[0], INTEGER);
  if (version.end - version.start !== 1 || request[version.start] !== 0) throw new DerError('CSR version must be 0');
  expectTag(fields[1], SEQUENCE);
  const spki = expectTag(fields[2], SEQUENCE);
  expectTag(fields[3], 0xa0);
  const algorithm = expectTag(top[1], SEQUENCE);
  const signature = expectTag(top[2], BIT_STRING);
  if (signature.end - signature.start < 2 || request[signature.start] !== 0) {
    throw new DerError('a CSR signature is a BIT STRING without unused bits');
  }
  return {
    info: bytesOf(request, info),
    spki: bytesOf(request, spki),
    signatureAlgorithm: bytesOf(request, algorithm),
    signature: request.subarray(signature.start + 1, signature.end),
  };
}
