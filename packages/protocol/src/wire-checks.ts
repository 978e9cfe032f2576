/**
 * The device messages as zod-free checks (see `check.ts`). They accept exactly what the
 * zod schemas of `messages.ts` accept — `wire-checks.test.ts` compares them on the test
 * vectors and on thousands of mutations — and the types below are asserted equal to the
 * schemas' inferred types, so a change to one that is not made to the other fails the build.
 */
import {
  array,
  boolean,
  type CheckAgrees,
  either,
  integer,
  literal,
  object,
  oneOf,
  optional,
  record,
  string,
  unknown,
} from './check.js';
import {
  COUNT_MAX,
  checkAsciiText,
  checkDateMs,
  checkDisplayName,
  checkHostname,
  checkIdentifier,
  checkTag,
} from './field-rules.js';
import type * as schema from './messages.js';
import { LEGACY_LICENSE_COUNT_MAX, MAX_CHAIN_INTERMEDIATES, PROTOCOL_VERSION } from './wire.js';

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const SERIAL = /^[0-9a-f]{1,40}$/;
const UUID =
  /^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$/;

const base64url = (rules: { min?: number; max?: number } = {}) =>
  string({ ...rules, pattern: BASE64URL, patternName: 'base64url' });
const pem = string({ min: 1, max: 16_384, includes: '-----BEGIN' });
const serial = string({ pattern: SERIAL, patternName: 'a lowercase hex serial' });
/** A UUID as zod's `z.uuid()` accepts it (RFC 9562 variant, or the nil and max UUIDs). */
export const checkUuid = string({ pattern: UUID, patternName: 'a UUID' });
const uuid = checkUuid;
const tag = checkTag;
const date = checkDateMs;
const anyString = string();
const nonNegative = integer({ min: 0 });
const positive = integer({ min: 1 });

const freshness = {
  version: literal(PROTOCOL_VERSION),
  timestamp: date,
  nonce: base64url({ min: 16, max: 64 }),
};

const identified = { ...freshness, instanceId: uuid, idCertSerial: serial, signingCertSerial: serial };

/** Checks a signature algorithm name (`SignatureAlgorithm`). */
export const checkSignatureAlgorithm = oneOf('ES256', 'Ed25519');
/** Checks a UDI (`pid`, `sn`). */
export const checkUdi = object({ pid: checkIdentifier(64), sn: checkIdentifier(64) });

/** Checks a `RegisterRequest` (SPEC §4.1) without zod. */
export const checkRegisterRequest = object({
  type: literal('register'),
  ...freshness,
  idToken: string({ min: 1, max: 512 }),
  softwareTag: checkIdentifier(256),
  udi: checkUdi,
  hostname: optional(checkHostname),
  csr: pem,
  force: boolean,
});

const accountInfo = {
  smartAccount: object({ id: anyString, name: anyString, domain: anyString }),
  virtualAccount: object({ id: anyString, name: anyString }),
  exportControlled: boolean,
};
/** Checks the `AccountInfo` of a registration answer. */
export const checkAccountInfo = object(accountInfo);

const idCertificateFields = {
  instanceId: uuid,
  idCertificate: pem,
  idCertSerial: serial,
  idCertExpiresAt: date,
  renewIntervalMs: positive,
  signingCertificate: pem,
  signingCertSerial: serial,
};

/** Checks a `RegisterResponse` (SPEC §4.1) without zod. */
export const checkRegisterResponse = object({
  type: literal('register-response'),
  ...freshness,
  ...idCertificateFields,
  ...accountInfo,
});

/** Checks one `EntitlementUsage` entry (tag and count). */
export const checkEntitlementUsage = object({
  tag,
  count: integer({ min: 0, max: COUNT_MAX }),
  version: optional(checkAsciiText(0, 64)),
  displayName: optional(checkDisplayName()),
  enforceMode: optional(oneOf('enforced', 'not-enforced')),
});

/** Checks an `AuthorizeRequest` (SPEC §4.2) without zod. */
export const checkAuthorizeRequest = object({
  type: literal('authorize'),
  ...identified,
  entitlements: array(checkEntitlementUsage, { max: 1000 }),
});

/** Checks a `ComplianceStatus`. */
export const checkComplianceStatus = oneOf('InCompliance', 'OutOfCompliance');

/** Checks an `AuthorizeResponse` (SPEC §4.2) without zod. */
export const checkAuthorizeResponse = object({
  type: literal('authorize-response'),
  ...freshness,
  instanceId: uuid,
  status: checkComplianceStatus,
  entitlements: array(
    object({ tag, requested: nonNegative, status: checkComplianceStatus, displayName: optional(anyString) }),
  ),
  authorizedAt: date,
  expiresAt: date,
  renewIntervalMs: positive,
  retryIntervalMs: positive,
  smartAccount: optional(accountInfo.smartAccount),
  virtualAccount: optional(accountInfo.virtualAccount),
});

/** Checks a `RenewIdRequest` (SPEC §4.3) without zod. */
export const checkRenewIdRequest = object({ type: literal('renew-id'), ...identified, csr: pem });
/** Checks a `RenewIdResponse` (SPEC §4.3) without zod. */
export const checkRenewIdResponse = object({
  type: literal('renew-id-response'),
  ...freshness,
  ...idCertificateFields,
});

/** Checks a `DeregisterRequest` (SPEC §4.4) without zod. */
export const checkDeregisterRequest = object({ type: literal('deregister'), ...identified });
/** Checks a `DeregisterResponse` (SPEC §4.4) without zod. */
export const checkDeregisterResponse = object({ type: literal('deregister-response'), ...freshness, instanceId: uuid });

/** Checks one `LegacyLicense` of a conversion report. */
export const checkLegacyLicense = object({
  legacyId: checkAsciiText(1, 256),
  tag,
  count: integer({ min: 1, max: LEGACY_LICENSE_COUNT_MAX }),
  name: optional(checkDisplayName(1)),
  type: optional(oneOf('perpetual', 'term', 'subscription')),
  endsAt: optional(date),
});

/** Checks a `ConvertRequest` (device-led conversion) without zod. */
export const checkConvertRequest = object({
  type: literal('convert'),
  ...identified,
  licenses: array(checkLegacyLicense, { min: 1, max: 100 }),
});

/** Checks a `ConversionOutcome`. */
export const checkConversionOutcome = oneOf('deposited', 'pending', 'already-reported');

/** Checks a `ConvertResponse` without zod. */
export const checkConvertResponse = object({
  type: literal('convert-response'),
  ...freshness,
  instanceId: uuid,
  deposited: array(object({ tag, count: positive })),
  alreadyConverted: boolean,
  licenses: optional(
    array(
      object({
        legacyId: string({ min: 1, max: 256 }),
        tag,
        count: positive,
        outcome: checkConversionOutcome,
      }),
    ),
  ),
});

const serialOrCsr = either(serial, literal('csr'));

/** Checks the `signature` block of a signed envelope. */
export const checkSignature = object({
  alg: checkSignatureAlgorithm,
  // "csr" (every registration) is answered first: through `either` it would be a thrown and
  // caught ShapeError per registration, whose stack trace costs more than the whole check.
  certSerial: (v: unknown, p: string) => (v === 'csr' ? 'csr' : serialOrCsr(v, p)),
  value: base64url({ max: 200 }),
});

/** Checks a signed envelope: `payload` (any record), `signature`, and a response's optional `chain` and `signer`. */
export const checkEnvelope = object({
  payload: record(unknown),
  signature: checkSignature,
  chain: optional(array(string({ min: 1, max: 8192 }), { max: MAX_CHAIN_INTERMEDIATES })),
  signer: optional(string({ min: 1, max: 8192 })),
});

/** Checks an error answer `{ code, message, requestId }`. */
export const checkErrorBody = object({
  code: anyString,
  message: anyString,
  requestId: optional(anyString),
  fields: optional(record(array(anyString))),
});

/** The request check of each device message type. */
export const REQUEST_CHECKS = {
  register: checkRegisterRequest,
  authorize: checkAuthorizeRequest,
  'renew-id': checkRenewIdRequest,
  deregister: checkDeregisterRequest,
  convert: checkConvertRequest,
} as const;

/** The response check of each device message type. */
export const RESPONSE_CHECKS = {
  register: checkRegisterResponse,
  authorize: checkAuthorizeResponse,
  'renew-id': checkRenewIdResponse,
  deregister: checkDeregisterResponse,
  convert: checkConvertResponse,
} as const;

// ---------------------------------------------------------------------------------------------
// The checks return exactly the schemas' types: a difference fails compilation here.

type Agrees<C, S> = CheckAgrees<C, S>;
type AllAgree = [
  Agrees<typeof checkRegisterRequest, schema.RegisterRequest>,
  Agrees<typeof checkRegisterResponse, schema.RegisterResponse>,
  Agrees<typeof checkAccountInfo, schema.AccountInfo>,
  Agrees<typeof checkEntitlementUsage, schema.EntitlementUsage>,
  Agrees<typeof checkAuthorizeRequest, schema.AuthorizeRequest>,
  Agrees<typeof checkAuthorizeResponse, schema.AuthorizeResponse>,
  Agrees<typeof checkRenewIdRequest, schema.RenewIdRequest>,
  Agrees<typeof checkRenewIdResponse, schema.RenewIdResponse>,
  Agrees<typeof checkDeregisterRequest, schema.DeregisterRequest>,
  Agrees<typeof checkDeregisterResponse, schema.DeregisterResponse>,
  Agrees<typeof checkLegacyLicense, schema.LegacyLicense>,
  Agrees<typeof checkConvertRequest, schema.ConvertRequest>,
  Agrees<typeof checkConvertResponse, schema.ConvertResponse>,
  Agrees<typeof checkConversionOutcome, schema.ConversionOutcome>,
  Agrees<typeof checkSignature, schema.Signature>,
  Agrees<typeof checkErrorBody, schema.ErrorBody>,
  Agrees<typeof checkUdi, schema.Udi>,
];
/** Compile-time proof that every check above returns its schema's type. */
export const CHECKS_MATCH_SCHEMAS: AllAgree extends true[] ? true : never = true;
