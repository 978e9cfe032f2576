import { z } from 'zod';
import {
  ASCII_TEXT_PATTERN,
  ASCII_TEXT_RULE,
  COUNT_MAX,
  DATE_RULE,
  DISPLAY_NAME_MAX,
  DISPLAY_NAME_PATTERN,
  DISPLAY_NAME_RULE,
  HOSTNAME_MAX,
  HOSTNAME_PATTERN,
  HOSTNAME_RULE,
  IDENTIFIER_PATTERN,
  IDENTIFIER_RULE,
  MAX_DATE_MS,
  MIN_DATE_MS,
  TAG_MAX,
  TAG_PATTERN,
  TAG_RULE,
} from './field-rules.js';
import { LEGACY_LICENSE_COUNT_MAX, MAX_CHAIN_INTERMEDIATES, PROTOCOL_VERSION } from './wire.js';

/** Signature algorithms a message may be signed with. ES256 (ECDSA P-256, SHA-256) is the default. */
export const SignatureAlgorithm = z.enum(['ES256', 'Ed25519']);
export type SignatureAlgorithm = z.infer<typeof SignatureAlgorithm>;

const base64url = z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be base64url');
const pem = z.string().min(1).max(16_384).includes('-----BEGIN');
const serial = z.string().regex(/^[0-9a-f]{1,40}$/, 'must be a lowercase hex serial');
const nonce = base64url.min(16).max(64);

/** A date in ms since the epoch, from 2000-01-01 to 9999-12-31: every date field of every message. */
export const DateMs = z
  .number()
  .int(`must be ${DATE_RULE}`)
  .min(MIN_DATE_MS, `must be ${DATE_RULE}`)
  .max(MAX_DATE_MS, `must be ${DATE_RULE}`);

/** An entitlement tag (see `TAG_PATTERN`); the admin routes take tags with this schema too. */
export const EntitlementTag = z
  .string()
  .min(1, 'must not be empty')
  .max(TAG_MAX, `must be at most ${TAG_MAX} characters`)
  .regex(TAG_PATTERN, `must be ${TAG_RULE}`);

/** A display name of at most 256 characters (maybe empty: add `.min(1)`), printable text without control characters. */
export const DisplayName = z
  .string()
  .max(DISPLAY_NAME_MAX, `must be at most ${DISPLAY_NAME_MAX} characters`)
  .regex(DISPLAY_NAME_PATTERN, `must be ${DISPLAY_NAME_RULE}`);

/** A host name (RFC 1123, underscores tolerated), at most 253 characters. */
export const Hostname = z
  .string()
  .min(1, 'must not be empty')
  .max(HOSTNAME_MAX, `must be at most ${HOSTNAME_MAX} characters`)
  .regex(HOSTNAME_PATTERN, `must be ${HOSTNAME_RULE}`);

/** A PID, SN or software tag of 1–`max` characters: printable ASCII without spaces. */
function identifier(max: number) {
  return z
    .string()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .regex(IDENTIFIER_PATTERN, `must be ${IDENTIFIER_RULE}`);
}

/** Printable ASCII text of `min`–`max` characters, spaces only between words. */
function asciiText(min: number, max: number) {
  return z
    .string()
    .min(min, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .regex(ASCII_TEXT_PATTERN, `must be ${ASCII_TEXT_RULE}`);
}

const tag = EntitlementTag;

/** Fields every device→server message carries against replay (SPEC §3). */
const freshness = {
  version: z.literal(PROTOCOL_VERSION),
  /** Device wall-clock time, ms since the epoch. */
  timestamp: DateMs,
  /** At least 96 random bits, base64url; never sent twice. */
  nonce,
};

/** Fields of every message signed with the device's ID certificate key. */
const identified = {
  ...freshness,
  instanceId: z.uuid(),
  idCertSerial: serial,
  signingCertSerial: serial,
};

/** A product's identity: PID (product id) and SN (serial number). */
export const Udi = z.object({ pid: identifier(64), sn: identifier(64) });
export type Udi = z.infer<typeof Udi>;

/** SPEC §4.1: registration with an ID token and a CSR; signed with the CSR's key. */
export const RegisterRequest = z.object({
  type: z.literal('register'),
  ...freshness,
  idToken: z.string().min(1).max(512),
  softwareTag: identifier(256),
  udi: Udi,
  hostname: Hostname.optional(),
  csr: pem,
  force: z.boolean(),
});
export type RegisterRequest = z.infer<typeof RegisterRequest>;

/** Where a product instance is registered. */
export const AccountInfo = z.object({
  smartAccount: z.object({ id: z.string(), name: z.string(), domain: z.string() }),
  virtualAccount: z.object({ id: z.string(), name: z.string() }),
  exportControlled: z.boolean(),
});
export type AccountInfo = z.infer<typeof AccountInfo>;

/** A newly issued ID certificate and the intervals that go with it. */
const idCertificateFields = {
  instanceId: z.uuid(),
  idCertificate: pem,
  idCertSerial: serial,
  /** When the ID certificate stops being valid (ms since the epoch). */
  idCertExpiresAt: DateMs,
  /** When the device should renew its ID certificate, counted from issue (ms). */
  renewIntervalMs: z.number().int().positive(),
  signingCertificate: pem,
  signingCertSerial: serial,
};

/** SPEC §4.1 response. */
export const RegisterResponse = z.object({
  type: z.literal('register-response'),
  ...freshness,
  ...idCertificateFields,
  ...AccountInfo.shape,
});
export type RegisterResponse = z.infer<typeof RegisterResponse>;

/** One entitlement in use by a product (SPEC §4.2). */
export const EntitlementUsage = z.object({
  tag,
  count: z.number().int().nonnegative().max(COUNT_MAX),
  version: asciiText(0, 64).optional(),
  displayName: DisplayName.optional(),
  enforceMode: z.enum(['enforced', 'not-enforced']).optional(),
});
export type EntitlementUsage = z.infer<typeof EntitlementUsage>;

/** SPEC §4.2: authorization ("Mother May I") request. */
export const AuthorizeRequest = z.object({
  type: z.literal('authorize'),
  ...identified,
  entitlements: z.array(EntitlementUsage).max(1000),
});
export type AuthorizeRequest = z.infer<typeof AuthorizeRequest>;

/** Compliance of the whole device or of one tag (SPEC §4.2). */
export const ComplianceStatus = z.enum(['InCompliance', 'OutOfCompliance']);
export type ComplianceStatus = z.infer<typeof ComplianceStatus>;

/** SPEC §4.2 response: compliance overall and per tag, with the timers the device must follow. */
export const AuthorizeResponse = z.object({
  type: z.literal('authorize-response'),
  ...freshness,
  instanceId: z.uuid(),
  status: ComplianceStatus,
  entitlements: z.array(
    z.object({
      tag,
      requested: z.number().int().nonnegative(),
      status: ComplianceStatus,
      displayName: z.string().optional(),
    }),
  ),
  authorizedAt: DateMs,
  /** When this authorization lapses (90 days by default). */
  expiresAt: DateMs,
  /** When the device should renew, counted from `authorizedAt` (30 days by default). */
  renewIntervalMs: z.number().int().positive(),
  /** How soon to retry after a failed renewal (server's choice; agent defaults otherwise). */
  retryIntervalMs: z.number().int().positive(),
  /** Where the instance is registered now (it may have been transferred since it registered). */
  smartAccount: AccountInfo.shape.smartAccount.optional(),
  virtualAccount: AccountInfo.shape.virtualAccount.optional(),
});
export type AuthorizeResponse = z.infer<typeof AuthorizeResponse>;

/** SPEC §4.3: ID certificate renewal with a new CSR. */
export const RenewIdRequest = z.object({ type: z.literal('renew-id'), ...identified, csr: pem });
export type RenewIdRequest = z.infer<typeof RenewIdRequest>;

/** SPEC §4.3 response: the new ID certificate, with its serial and validity. */
export const RenewIdResponse = z.object({ type: z.literal('renew-id-response'), ...freshness, ...idCertificateFields });
export type RenewIdResponse = z.infer<typeof RenewIdResponse>;

/** SPEC §4.4: deregistration; releases usage and removes the instance. */
export const DeregisterRequest = z.object({ type: z.literal('deregister'), ...identified });
export type DeregisterRequest = z.infer<typeof DeregisterRequest>;

/** SPEC §4.4 response: the product instance that was removed. */
export const DeregisterResponse = z.object({
  type: z.literal('deregister-response'),
  ...freshness,
  instanceId: z.uuid(),
});
export type DeregisterResponse = z.infer<typeof DeregisterResponse>;

/** SPEC §4.5: one legacy license a device holds (e.g. a PAK/RTU feature key). */
export const LegacyLicense = z.object({
  /** Unique id of the legacy license on this device (e.g. PAK number and feature key); converted once per device UDI. */
  legacyId: asciiText(1, 256),
  /** The smart license (entitlement tag) it converts to. */
  tag,
  /** At most {@link LEGACY_LICENSE_COUNT_MAX}. */
  count: z.number().int().positive().max(LEGACY_LICENSE_COUNT_MAX),
  name: DisplayName.min(1, 'must not be empty').optional(),
  /** Pool type of the deposited licenses; default perpetual. */
  type: z.enum(['perpetual', 'term', 'subscription']).optional(),
  /** When term/subscription licenses end (ms since the epoch); required for them. */
  endsAt: DateMs.optional(),
});
export type LegacyLicense = z.infer<typeof LegacyLicense>;

/**
 * SPEC §4.5: device-led conversion. A registered device reports the legacy licenses it
 * holds; each is deposited into its VA once per (UDI, legacyId).
 */
export const ConvertRequest = z.object({
  type: z.literal('convert'),
  ...identified,
  licenses: z.array(LegacyLicense).min(1).max(100),
});
export type ConvertRequest = z.infer<typeof ConvertRequest>;

/**
 * What became of one reported legacy license: `deposited` by this report, `pending` an
 * administrator's approval (over the Virtual Account's automatic cap, or the VA reviews every
 * conversion), or `already-reported` (reported before: this report changed nothing for it).
 */
export const ConversionOutcome = z.enum(['deposited', 'pending', 'already-reported']);
export type ConversionOutcome = z.infer<typeof ConversionOutcome>;

/**
 * SPEC §4.5 response: what this report deposited (per tag). `alreadyConverted` is true when
 * every reported license had been reported before, so nothing was deposited or put aside for
 * approval. `licenses` (absent from older authorities) says what became of each reported
 * license; a `pending` one is deposited later if an administrator approves it.
 */
export const ConvertResponse = z.object({
  type: z.literal('convert-response'),
  ...freshness,
  instanceId: z.uuid(),
  deposited: z.array(z.object({ tag, count: z.number().int().positive() })),
  alreadyConverted: z.boolean(),
  licenses: z
    .array(
      z.object({
        legacyId: z.string().min(1).max(256),
        tag,
        count: z.number().int().positive(),
        outcome: ConversionOutcome,
      }),
    )
    .optional(),
});
export type ConvertResponse = z.infer<typeof ConvertResponse>;

/** The signature block of an envelope. `certSerial` names the key: ID cert, signing cert, or `csr`. */
export const Signature = z.object({
  alg: SignatureAlgorithm,
  certSerial: z.union([serial, z.literal('csr')]),
  value: base64url.max(200),
});
export type Signature = z.infer<typeof Signature>;

/** One certificate of a response's `chain` (PEM). */
const chainCertificate = z.string().min(1).max(8192);

/**
 * Every device message and response travels as `{ payload, signature }`. A response signed by a
 * satellite also carries `chain`: the intermediate certificates (PEM, nearest the signer first,
 * root excluded) between its signing certificate and the root the device trusts. The chain is
 * not covered by the signature: each certificate in it is checked by its issuer's signature.
 */
export const Envelope = z.object({
  payload: z.record(z.string(), z.unknown()),
  signature: Signature,
  chain: z.array(chainCertificate).max(MAX_CHAIN_INTERMEDIATES).optional(),
  signer: chainCertificate.optional(),
});
/**
 * A signed envelope. Responses only: `chain`, the intermediates of a satellite's signing
 * certificate (see {@link Envelope}); `signer`, the server's current signing certificate (PEM)
 * when the request named an earlier certificate of the same key (a satellite's renewed
 * certificate), which the device then keeps.
 */
export type Envelope<P = Record<string, unknown>> = {
  payload: P;
  signature: Signature;
  chain?: string[];
  signer?: string;
};

/** Error bodies of every HTTP route. `fields` carries per-field messages (e.g. `timestamp`). */
export const ErrorBody = z.object({
  code: z.string(),
  message: z.string(),
  requestId: z.string().optional(),
  fields: z.record(z.string(), z.array(z.string())).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** The request schema of each device message type. */
export const REQUEST_SCHEMAS = {
  register: RegisterRequest,
  authorize: AuthorizeRequest,
  'renew-id': RenewIdRequest,
  deregister: DeregisterRequest,
  convert: ConvertRequest,
} as const;

/** The response schema of each device message type. */
export const RESPONSE_SCHEMAS = {
  register: RegisterResponse,
  authorize: AuthorizeResponse,
  'renew-id': RenewIdResponse,
  deregister: DeregisterResponse,
  convert: ConvertResponse,
} as const;
