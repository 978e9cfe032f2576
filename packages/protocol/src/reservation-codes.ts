import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { canonicalBytes } from './canonical.js';
import { array, boolean, type Checked, integer, literal, object, parseWith, record, string, unknown } from './check.js';
import { SmartlicError } from './errors.js';
import type { Signature, Udi } from './messages.js';
import { type parseCertificate, verifySignerChain } from './pki.js';
import { verifyEnvelope } from './signing.js';
import { checkSignature, checkUuid } from './wire-checks.js';

// Offline license reservation codes (SPEC §7; formats in docs/protocol.md). Pure: no I/O.

/** Version of every reservation code format; it is the digit after the kind letter (`R1-`, `A1-`, `C1-`). */
export const RESERVATION_CODE_VERSION = 1;

/** The four kinds of code, as named in error messages. */
export type ReservationCodeKind = 'request' | 'authorization' | 'confirmation' | 'return';

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const B58_INDEX = new Map([...B58].map((c, i) => [c, BigInt(i)]));

function invalid(kind: ReservationCodeKind, reason: string): SmartlicError {
  return new SmartlicError('RESERVATION_CODE_INVALID', { params: { kind }, context: { reason } });
}

/** `bytes` as exactly `width` base-58 digits (leading `1`s), so that every code of a kind has one length. */
export function base58Fixed(bytes: Uint8Array, width: number): string {
  let n = BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
  let out = '';
  for (let i = 0; i < width; i++) {
    out = B58[Number(n % 58n)] + out;
    n /= 58n;
  }
  if (n !== 0n) throw new RangeError('value does not fit the width');
  return out;
}

/** Reads `width`-digit base-58 back into `length` bytes; undefined for a bad digit or a value too large. */
export function base58FixedDecode(text: string, length: number): Buffer | undefined {
  let n = 0n;
  for (const c of text) {
    const d = B58_INDEX.get(c);
    if (d === undefined) return undefined;
    n = n * 58n + d;
  }
  if (n >= 1n << BigInt(length * 8)) return undefined;
  return Buffer.from(n.toString(16).padStart(length * 2, '0'), 'hex');
}

const CHECK_PRIME = 97;
const HASH_RANGE = 2011; // 97 × 2011 < 58³

/**
 * The 3-character check tail of a code's text (everything before `-tail`). Its value is
 * `(Σ wᵢ·vᵢ mod 97) × 2011 + (SHA-256(text) mod 2011)`, with vᵢ = char code − 32 (printable
 * ASCII only, 0…94) and wᵢ = (i mod 96) + 1. 97 is prime and larger than every |vᵢ − v′ᵢ|
 * and every wᵢ, and adjacent weights differ, so the weighted sum changes with every single
 * substituted character and every swap of two adjacent different characters (proven
 * exhaustively over samples in the tests); the hash part makes a random change pass with
 * probability about 1/195,000.
 */
export function checkTail(text: string): string {
  let sum = 0;
  for (let i = 0; i < text.length; i++) {
    const v = text.charCodeAt(i) - 32;
    if (v < 1 || v > 94) throw new RangeError('codes hold printable ASCII only');
    sum = (sum + ((i % 96) + 1) * v) % CHECK_PRIME;
  }
  const hash = createHash('sha256').update(text, 'latin1').digest().readUInt32BE(0) % HASH_RANGE;
  const value = sum * HASH_RANGE + hash;
  return base58Fixed(Buffer.from([value >> 16, (value >> 8) & 0xff, value & 0xff]), 3);
}

/** The code as typed or pasted, without white space and `#` comment lines (line wraps and file headers are allowed). */
export function normalizeCode(input: string): string {
  return input
    .split(/\r?\n/)
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('')
    .replace(/\s+/g, '');
}

/** Splits `text-ttt` after checking the tail; throws `RESERVATION_CODE_INVALID`. */
function checked(kind: ReservationCodeKind, input: string, maxLength: number): string {
  if (typeof input !== 'string' || input.length > maxLength * 2) throw invalid(kind, 'length');
  const code = normalizeCode(input);
  if (code.length < 5 || code.length > maxLength || code[code.length - 4] !== '-') throw invalid(kind, 'shape');
  if (!/^[!-~]+$/.test(code)) throw invalid(kind, 'characters');
  const text = code.slice(0, -4);
  if (checkTail(text) !== code.slice(-3)) throw invalid(kind, 'checksum');
  return text;
}

function withTail(text: string): string {
  return `${text}-${checkTail(text)}`;
}

function group(text: string, size: number): string {
  return (text.match(new RegExp(`.{1,${size}}`, 'g')) ?? []).join('-');
}

// ---------------------------------------------------------------------------------------------
// Device reservation key (X25519) and the MAC key both sides derive from it.

/** A device's reservation key pair (X25519), made when a request code is made. */
export interface ReservationKeyPair {
  /** PKCS#8 PEM; stays on the device. */
  privateKeyPem: string;
  /** The raw 32-byte public key, base64url: it travels in the request code. */
  publicKey: string;
}

/** A fresh X25519 key pair for one reservation request. */
export function newReservationKeyPair(): ReservationKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: rawX25519(publicKey),
  };
}

function rawX25519(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new TypeError('not an X25519 key');
  return jwk.x;
}

function x25519Public(raw: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: raw }, format: 'jwk' });
}

/**
 * The 32-byte MAC key of a reservation: HKDF-SHA256 over the X25519 shared secret of one side's
 * private key and the other side's public key, salted with the reservation id. The device uses
 * its request key and the authority's per-reservation key from the authorization code; the
 * authority uses its per-reservation key and the device key from the request code.
 */
export function deriveReservationMacKey(privateKeyPem: string, peerPublicKey: string, reservationId: string): Buffer {
  const shared = diffieHellman({ privateKey: createPrivateKey(privateKeyPem), publicKey: x25519Public(peerPublicKey) });
  return Buffer.from(hkdfSync('sha256', shared, reservationId, 'smartlic reservation mac v1', 32));
}

// ---------------------------------------------------------------------------------------------
// Request code: R1-<PID>:<SN>-<56 base-58 digits in 7 groups of 8>-<tail>

/** What a request code carries. */
export interface RequestCode {
  version: number;
  udi: Udi;
  /** 9 random bytes, base64url: binds the authorization code to this request. */
  nonce: string;
  /** The device's X25519 reservation public key, base64url (32 bytes). */
  devicePublicKey: string;
}

const PID_RE = /^[A-Za-z0-9._/+-]{1,64}$/;
const SN_RE = /^[A-Za-z0-9._/+]{1,64}$/;
const REQUEST_BODY = 56;

/** True when a UDI can be written in a request code (PID without `:`, SN without `-` or `:`). */
export function isReservableUdi(udi: Udi): boolean {
  return PID_RE.test(udi.pid) && SN_RE.test(udi.sn);
}

/** Renders a request code, e.g. `R1-C9300-24UX:FCW2134L0RN-…-7kQ`. */
export function encodeRequestCode(request: Omit<RequestCode, 'version'>): string {
  if (!isReservableUdi(request.udi)) throw new RangeError('this UDI cannot be written in a request code');
  const nonce = Buffer.from(request.nonce, 'base64url');
  const key = Buffer.from(request.devicePublicKey, 'base64url');
  if (nonce.length !== 9 || key.length !== 32) throw new RangeError('nonce must be 9 bytes and key 32 bytes');
  const body = base58Fixed(Buffer.concat([nonce, key]), REQUEST_BODY);
  return withTail(`R${RESERVATION_CODE_VERSION}-${request.udi.pid}:${request.udi.sn}-${group(body, 8)}`);
}

/** A fresh request nonce (9 random bytes, base64url). */
export function newRequestNonce(): string {
  return randomBytes(9).toString('base64url');
}

/** Parses a request code; throws `RESERVATION_CODE_INVALID` for anything mistyped, truncated or altered. */
export function parseRequestCode(input: string): RequestCode {
  const text = checked('request', input, 250);
  const m = /^R1-([^:]+):([^-:]+)-((?:[1-9A-Za-z]{8}-){6}[1-9A-Za-z]{8})$/.exec(text);
  if (!m) throw invalid('request', 'shape');
  const [, pid = '', sn = '', grouped = ''] = m;
  if (!isReservableUdi({ pid, sn })) throw invalid('request', 'udi');
  const bytes = base58FixedDecode(grouped.replaceAll('-', ''), 41);
  if (!bytes) throw invalid('request', 'body');
  return {
    version: RESERVATION_CODE_VERSION,
    udi: { pid, sn },
    nonce: bytes.subarray(0, 9).toString('base64url'),
    devicePublicKey: bytes.subarray(9).toString('base64url'),
  };
}

// ---------------------------------------------------------------------------------------------
// Authorization code: A1-<base64url of {envelope, certificate}>-<tail>, wrapped at 64 characters.

const b64u = (length: number) =>
  string({ min: length, max: length, pattern: /^[A-Za-z0-9_-]+$/, patternName: 'base64url' });
const ReservedLicense = object(
  { tag: string({ min: 1, max: 256 }), count: integer({ min: 1, max: 1e9 }) },
  { strict: true },
);
/** One tag and count of a reservation. */
export type ReservedLicense = Checked<typeof ReservedLicense>;

/** The signed content of an authorization code. */
export const AuthorizationPayload = object(
  {
    version: literal(RESERVATION_CODE_VERSION),
    kind: literal('reservation-authorization'),
    udi: object({ pid: string({ min: 1, max: 64 }), sn: string({ min: 1, max: 64 }) }, { strict: true }),
    requestNonce: b64u(12),
    reservationId: checkUuid,
    instanceId: checkUuid,
    sequence: integer({ min: 1, max: 0xffffffff }),
    licenses: array(ReservedLicense, { max: 200 }),
    plr: boolean,
    issuedAt: integer({ min: 0 }),
    /** The authority's X25519 public key for this reservation (MAC key derivation). */
    authorityKey: b64u(43),
  },
  { strict: true },
);
export type AuthorizationPayload = Checked<typeof AuthorizationPayload>;

const AuthorizationBody = object(
  {
    payload: record(unknown),
    signature: checkSignature,
    certificate: string({ min: 1, max: 8192, includes: '-----BEGIN CERTIFICATE-----' }),
  },
  { strict: true },
);

/** A parsed (not yet verified) authorization code. */
export interface AuthorizationCode {
  payload: AuthorizationPayload;
  signature: Signature;
  certificatePem: string;
  /** SHA-256 of the normalized code, hex: identifies it (installed twice, replays). */
  digest: string;
}

/** Renders a signed authorization payload and the signing certificate as a code wrapped at 64 characters. */
export function encodeAuthorizationCode(
  envelope: { payload: AuthorizationPayload; signature: Signature },
  certificatePem: string,
): string {
  const json = canonicalBytes({
    payload: envelope.payload,
    signature: envelope.signature,
    certificate: certificatePem,
  });
  const code = withTail(`A${RESERVATION_CODE_VERSION}-${json.toString('base64url')}`);
  return wrap(code, 64);
}

function wrap(text: string, width: number): string {
  const lines: string[] = [];
  for (let i = 0; i < text.length; i += width) lines.push(text.slice(i, i + width));
  return lines.join('\n');
}

/** The authorization code as a file: comment lines (ignored when read back) and the wrapped code. */
export function authorizationCodeFile(code: string): string {
  const { payload } = parseAuthorizationCode(code);
  const what = payload.plr ? 'PLR (all features)' : payload.licenses.map((l) => `${l.tag}:${l.count}`).join(', ');
  return [
    `# smartlic license reservation authorization code v${payload.version}`,
    `# for PID:${payload.udi.pid} SN:${payload.udi.sn}, reservation ${payload.reservationId} sequence ${payload.sequence}`,
    `# licenses: ${what}`,
    code,
    '',
  ].join('\n');
}

/** Parses an authorization code (checksum, shape, schema); throws `RESERVATION_CODE_INVALID`. Does not verify the signature. */
export function parseAuthorizationCode(input: string): AuthorizationCode {
  const text = checked('authorization', input, 32_768);
  if (!text.startsWith('A1-')) throw invalid('authorization', 'version');
  const body = text.slice(3);
  if (!/^[A-Za-z0-9_-]+$/.test(body)) throw invalid('authorization', 'characters');
  const bytes = Buffer.from(body, 'base64url');
  if (bytes.toString('base64url') !== body) throw invalid('authorization', 'encoding');
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid('authorization', 'json');
  }
  const parsed = parseWith(AuthorizationBody, json);
  if (!parsed.ok) throw invalid('authorization', 'schema');
  const payload = parseWith(AuthorizationPayload, parsed.value.payload);
  if (!payload.ok) throw invalid('authorization', 'payload');
  if (payload.value.plr === payload.value.licenses.length > 0) throw invalid('authorization', 'licenses');
  return {
    payload: payload.value,
    signature: parsed.value.signature,
    certificatePem: parsed.value.certificate,
    digest: createHash('sha256').update(normalizeCode(input)).digest('hex'),
  };
}

/**
 * Checks that the code was signed by a signing certificate issued by one of `anchors` and valid
 * at `now`; throws `RESERVATION_CODE_INVALID` (with the reason in context) otherwise.
 */
export function verifyAuthorizationCode(code: AuthorizationCode, anchors: readonly string[], now: number): void {
  let info: ReturnType<typeof parseCertificate>;
  try {
    info = verifySignerChain(code.certificatePem, anchors, now);
  } catch {
    throw invalid('authorization', 'signer');
  }
  if (info.serial !== code.signature.certSerial) throw invalid('authorization', 'serial');
  if (!verifyEnvelope({ payload: code.payload, signature: code.signature }, info.cert.publicKey)) {
    throw invalid('authorization', 'signature');
  }
}

// ---------------------------------------------------------------------------------------------
// Confirmation and return codes: HMAC-SHA256 under the reservation MAC key.

/** What a device proves with a short code. */
export type ProofKind = 'confirmation' | 'return' | 'return-authorization';

/** The bytes a proof MAC covers. */
export interface ProofSubject {
  reservationId: string;
  sequence: number;
  udi: Udi;
}

const KIND_BYTE: Record<ProofKind, number> = { confirmation: 0x11, return: 0x12, 'return-authorization': 0x13 };

function proofMac(macKey: Uint8Array, kind: ProofKind, subject: ProofSubject): Buffer {
  const bytes = canonicalBytes({
    v: RESERVATION_CODE_VERSION,
    kind,
    reservationId: subject.reservationId,
    sequence: subject.sequence,
    udi: { pid: subject.udi.pid, sn: subject.udi.sn },
  });
  return createHmac('sha256', macKey).update(bytes).digest();
}

/**
 * The confirmation code of an installed update: `C1-` + 4 groups of 6 base-58 digits + tail;
 * the digits carry the first 128 bits of the MAC (plus a kind byte).
 */
export function confirmationCode(macKey: Uint8Array, subject: ProofSubject): string {
  const bytes = Buffer.concat([
    Buffer.from([KIND_BYTE.confirmation]),
    proofMac(macKey, 'confirmation', subject).subarray(0, 16),
  ]);
  return withTail(`C${RESERVATION_CODE_VERSION}-${group(base58Fixed(bytes, 24), 6)}`);
}

/** Checks a typed confirmation code against the expected subject: `true`, or throws `RESERVATION_CODE_INVALID`; false for a valid-looking code whose MAC does not match. */
export function checkConfirmationCode(input: string, macKey: Uint8Array, subject: ProofSubject): boolean {
  const text = checked('confirmation', input, 60);
  const m = /^C1-((?:[1-9A-Za-z]{6}-){3}[1-9A-Za-z]{6})$/.exec(text);
  const bytes = m ? base58FixedDecode((m[1] ?? '').replaceAll('-', ''), 17) : undefined;
  if (!bytes || bytes[0] !== KIND_BYTE.confirmation) throw invalid('confirmation', 'shape');
  return timingSafeEqual(bytes.subarray(1), proofMac(macKey, 'confirmation', subject).subarray(0, 16));
}

/** A parsed return code: which kind, for which sequence, and the MAC to check. */
export interface ReturnCode {
  kind: 'return' | 'return-authorization';
  sequence: number;
  mac: Buffer;
  /** SHA-256 of the normalized code, hex. */
  digest: string;
}

/**
 * The return code: nine groups of 6 base-58 digits and the 3-character tail, like the vendor's
 * `CMcmMV-TriR2T-…-M2u`. The digits carry a version/kind byte, the sequence (4 bytes) and the
 * full 256-bit MAC.
 */
export function returnCode(macKey: Uint8Array, kind: 'return' | 'return-authorization', subject: ProofSubject): string {
  const seq = Buffer.alloc(4);
  seq.writeUInt32BE(subject.sequence);
  const bytes = Buffer.concat([Buffer.from([KIND_BYTE[kind]]), seq, proofMac(macKey, kind, subject)]);
  return withTail(group(base58Fixed(bytes, 54), 6));
}

/** Parses a return code (checksum and shape); throws `RESERVATION_CODE_INVALID`. */
export function parseReturnCode(input: string): ReturnCode {
  const text = checked('return', input, 120);
  if (!/^(?:[1-9A-Za-z]{6}-){8}[1-9A-Za-z]{6}$/.test(text)) throw invalid('return', 'shape');
  const bytes = base58FixedDecode(text.replaceAll('-', ''), 37);
  if (!bytes) throw invalid('return', 'body');
  const kind =
    bytes[0] === KIND_BYTE.return
      ? 'return'
      : bytes[0] === KIND_BYTE['return-authorization']
        ? 'return-authorization'
        : undefined;
  if (!kind) throw invalid('return', 'kind');
  return {
    kind,
    sequence: bytes.readUInt32BE(1),
    mac: Buffer.from(bytes.subarray(5)),
    digest: createHash('sha256').update(text).digest('hex'),
  };
}

/** True when a parsed return code's MAC matches `subject` under `macKey`. */
export function checkReturnCode(code: ReturnCode, macKey: Uint8Array, subject: ProofSubject): boolean {
  return timingSafeEqual(code.mac, proofMac(macKey, code.kind, subject));
}
