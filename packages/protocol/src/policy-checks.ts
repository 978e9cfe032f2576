/**
 * The policy model's messages and files as zod-free checks (see `check.ts`), for the agent. They
 * accept exactly what the schemas of `policy-messages.ts` accept (`policy-checks.test.ts`), and
 * their types are asserted equal to the schemas' below.
 */
import { array, boolean, type CheckAgrees, integer, literal, object, oneOf, optional, string } from './check.js';
import { COUNT_MAX, checkDateMs, checkDisplayName, checkHostname, checkIdentifier, checkTag } from './field-rules.js';
import type * as schema from './policy-messages.js';
import { POLICY_DAYS_MAX, USAGE_FILE_REPORTS_MAX, USAGE_MESSAGE_REPORTS_MAX } from './policy-wire.js';
import { MAX_CHAIN_INTERMEDIATES, PROTOCOL_VERSION } from './wire.js';
import { checkSignature, checkUdi, checkUuid } from './wire-checks.js';

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const serial = string({ pattern: /^[0-9a-f]{1,40}$/, patternName: 'a lowercase hex serial' });
const pem = string({ min: 1, max: 16_384, includes: '-----BEGIN' });
const uuid = checkUuid;
const date = checkDateMs;
const anyString = string();
const count = integer({ min: 0, max: COUNT_MAX });
const days = integer({ min: 0, max: POLICY_DAYS_MAX });

const freshness = {
  version: literal(PROTOCOL_VERSION),
  timestamp: date,
  nonce: string({ min: 16, max: 64, pattern: BASE64URL, patternName: 'base64url' }),
};
const identified = { ...freshness, instanceId: uuid, idCertSerial: serial, signingCertSerial: serial };
const answering = { ...freshness, instanceId: uuid };

/** Checks a license class. */
export const checkLicenseClass = oneOf(
  'unenforced-perpetual',
  'unenforced-subscription',
  'enforced',
  'export-controlled',
);

/** Checks the terms of one license class. */
export const checkPolicyTerms = object({ firstReportDays: days, reportingFrequencyDays: days, onChangeDays: days });

/** Checks a `Policy`. */
export const checkPolicy = object({
  name: checkDisplayName(1),
  custom: boolean,
  classes: object({
    'unenforced-perpetual': checkPolicyTerms,
    'unenforced-subscription': checkPolicyTerms,
    enforced: checkPolicyTerms,
    'export-controlled': checkPolicyTerms,
  }),
});

/** Checks a `TrustRequest`. */
export const checkTrustRequest = object({
  type: literal('trust'),
  ...freshness,
  idToken: string({ min: 1, max: 512 }),
  softwareTag: checkIdentifier(256),
  udi: checkUdi,
  hostname: optional(checkHostname),
  csr: pem,
  force: boolean,
  scope: oneOf('local', 'all'),
});

/** Checks a `TrustResponse` (the trust code). */
export const checkTrustResponse = object({
  type: literal('trust-response'),
  ...answering,
  idCertificate: pem,
  idCertSerial: serial,
  idCertExpiresAt: date,
  signingCertificate: pem,
  signingCertSerial: serial,
  smartAccount: object({ id: anyString, name: anyString, domain: anyString }),
  virtualAccount: object({ id: anyString, name: anyString }),
  exportControlled: boolean,
  trustedAt: date,
  policy: checkPolicy,
});

/** Checks one `RumMeasurement`. */
export const checkRumMeasurement = object({
  start: date,
  end: date,
  sampleIntervalMs: integer({ min: 1, max: 86_400_000 }),
  samples: integer({ min: 1 }),
  count,
});

/** Checks one `RumTagUsage`. */
export const checkRumTagUsage = object({
  tag: checkTag,
  licenseClass: checkLicenseClass,
  measurements: array(checkRumMeasurement, { min: 1, max: 1000 }),
});

/** Checks a `RumReport`. */
export const checkRumReport = object({
  type: literal('rum-report'),
  version: literal(PROTOCOL_VERSION),
  reportId: uuid,
  instanceId: uuid,
  idCertSerial: serial,
  udi: checkUdi,
  createdAt: date,
  usage: array(checkRumTagUsage, { max: 1000 }),
});

/** Checks a signed RUM report. */
export const checkSignedRumReport = object({ payload: checkRumReport, signature: checkSignature });

/** Checks an `Ack`. */
export const checkAck = object({
  type: literal('ack'),
  version: literal(PROTOCOL_VERSION),
  ackId: uuid,
  instanceId: uuid,
  udi: checkUdi,
  reportIds: array(uuid, { max: 10_000 }),
  policy: checkPolicy,
  issuedAt: date,
});

/** Checks a signed ACK. */
export const checkSignedAck = object({ payload: checkAck, signature: checkSignature });

/** Checks a `UsageRequest`. */
export const checkUsageRequest = object({
  type: literal('usage'),
  ...identified,
  reports: array(checkSignedRumReport, { max: USAGE_MESSAGE_REPORTS_MAX }),
});

/** Checks a `UsageResponse`. */
export const checkUsageResponse = object({
  type: literal('usage-response'),
  ...answering,
  ack: checkSignedAck,
});

/** Checks one `SlacLicense`. */
export const checkSlacLicense = object({ tag: checkTag, count: integer({ min: 1, max: COUNT_MAX }) });

/** Checks a `SlacRequest`. */
export const checkSlacRequest = object({
  type: literal('slac'),
  ...identified,
  licenses: array(checkSlacLicense, { min: 1, max: 100 }),
});

/** Checks a `Slac`. */
export const checkSlac = object({
  slacId: uuid,
  instanceId: uuid,
  udi: checkUdi,
  licenses: array(checkSlacLicense, { min: 1, max: 100 }),
  issuedAt: date,
});

/** Checks a `SlacResponse`. */
export const checkSlacResponse = object({
  type: literal('slac-response'),
  ...answering,
  slac: checkSlac,
});

/** Checks a `SlacReturnRequest`. */
export const checkSlacReturnRequest = object({ type: literal('slac-return'), ...identified, slacId: uuid });

/** Checks a `SlacReturnResponse`. */
export const checkSlacReturnResponse = object({
  type: literal('slac-return-response'),
  ...answering,
  slacId: uuid,
});

/** Checks a `UsageFile`. */
export const checkUsageFile = object({
  format: literal('smartlic-usage'),
  version: literal(PROTOCOL_VERSION),
  udi: checkUdi,
  instanceId: uuid,
  createdAt: date,
  reports: array(checkSignedRumReport, { max: USAGE_FILE_REPORTS_MAX }),
});

/** Checks an `AckFile`. */
export const checkAckFile = object({
  format: literal('smartlic-ack'),
  version: literal(PROTOCOL_VERSION),
  udi: checkUdi,
  ack: checkSignedAck,
  signingCertificate: pem,
  chain: optional(array(pem, { max: MAX_CHAIN_INTERMEDIATES })),
});

/** Checks a `SlacFileRequest`. */
export const checkSlacFileRequest = object({
  type: literal('slac-file-request'),
  version: literal(PROTOCOL_VERSION),
  requestId: uuid,
  instanceId: uuid,
  idCertSerial: serial,
  udi: checkUdi,
  licenses: array(checkSlacLicense, { min: 1, max: 100 }),
  createdAt: date,
});

/** Checks a `SlacRequestFile`. */
export const checkSlacRequestFile = object({
  format: literal('smartlic-slac-request'),
  version: literal(PROTOCOL_VERSION),
  udi: checkUdi,
  instanceId: uuid,
  request: object({ payload: checkSlacFileRequest, signature: checkSignature }),
});

/** Checks a `SignedSlac`. */
export const checkSignedSlac = object({ payload: checkSlac, signature: checkSignature });

/** Checks a `SlacFile`. */
export const checkSlacFile = object({
  format: literal('smartlic-slac'),
  version: literal(PROTOCOL_VERSION),
  udi: checkUdi,
  slac: checkSignedSlac,
  signingCertificate: pem,
  chain: optional(array(pem, { max: MAX_CHAIN_INTERMEDIATES })),
});

/** The request check of each policy-model device message. */
export const POLICY_REQUEST_CHECKS = {
  trust: checkTrustRequest,
  usage: checkUsageRequest,
  slac: checkSlacRequest,
  'slac-return': checkSlacReturnRequest,
} as const;

/** The response check of each policy-model device message. */
export const POLICY_RESPONSE_CHECKS = {
  trust: checkTrustResponse,
  usage: checkUsageResponse,
  slac: checkSlacResponse,
  'slac-return': checkSlacReturnResponse,
} as const;

type Agrees<C, S> = CheckAgrees<C, S>;
type AllAgree = [
  Agrees<typeof checkPolicy, schema.Policy>,
  Agrees<typeof checkTrustRequest, schema.TrustRequest>,
  Agrees<typeof checkTrustResponse, schema.TrustResponse>,
  Agrees<typeof checkRumMeasurement, schema.RumMeasurement>,
  Agrees<typeof checkRumTagUsage, schema.RumTagUsage>,
  Agrees<typeof checkRumReport, schema.RumReport>,
  Agrees<typeof checkSignedRumReport, schema.SignedRumReport>,
  Agrees<typeof checkAck, schema.Ack>,
  Agrees<typeof checkSignedAck, schema.SignedAck>,
  Agrees<typeof checkUsageRequest, schema.UsageRequest>,
  Agrees<typeof checkUsageResponse, schema.UsageResponse>,
  Agrees<typeof checkSlacLicense, schema.SlacLicense>,
  Agrees<typeof checkSlacRequest, schema.SlacRequest>,
  Agrees<typeof checkSlac, schema.Slac>,
  Agrees<typeof checkSlacResponse, schema.SlacResponse>,
  Agrees<typeof checkSlacReturnRequest, schema.SlacReturnRequest>,
  Agrees<typeof checkSlacReturnResponse, schema.SlacReturnResponse>,
  Agrees<typeof checkUsageFile, schema.UsageFile>,
  Agrees<typeof checkAckFile, schema.AckFile>,
  Agrees<typeof checkSlacFileRequest, schema.SlacFileRequest>,
  Agrees<typeof checkSlacRequestFile, schema.SlacRequestFile>,
  Agrees<typeof checkSignedSlac, schema.SignedSlac>,
  Agrees<typeof checkSlacFile, schema.SlacFile>,
];
/** Compile-time proof that every policy check returns its schema's type. */
export const POLICY_CHECKS_MATCH_SCHEMAS: AllAgree extends true[] ? true : never = true;
