import { z } from 'zod';
import { COUNT_MAX, IDENTIFIER_PATTERN, IDENTIFIER_RULE } from './field-rules.js';
import { DateMs, DisplayName, EntitlementTag, Hostname, Signature, Udi } from './messages.js';
import { LICENSE_CLASSES, POLICY_DAYS_MAX, USAGE_FILE_REPORTS_MAX, USAGE_MESSAGE_REPORTS_MAX } from './policy-wire.js';
import { MAX_CHAIN_INTERMEDIATES, PROTOCOL_VERSION } from './wire.js';

// Smart Licensing Using Policy (SPEC §9): the zod schemas. `policy-checks.ts` holds the same
// as zod-free checks for the agent; `policy-checks.test.ts` keeps the two equal.

const base64url = z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be base64url');
const pem = z.string().min(1).max(16_384).includes('-----BEGIN');
const serial = z.string().regex(/^[0-9a-f]{1,40}$/, 'must be a lowercase hex serial');
const softwareTag = z
  .string()
  .min(1, 'must not be empty')
  .max(256, 'must be at most 256 characters')
  .regex(IDENTIFIER_PATTERN, `must be ${IDENTIFIER_RULE}`);
const count = z.number().int().nonnegative().max(COUNT_MAX);
const days = z.number().int().nonnegative().max(POLICY_DAYS_MAX);

const freshness = {
  version: z.literal(PROTOCOL_VERSION),
  timestamp: DateMs,
  nonce: base64url.min(16).max(64),
};
const identified = { ...freshness, instanceId: z.uuid(), idCertSerial: serial, signingCertSerial: serial };
/** What every answer to a device carries: freshness and the instance it answers. */
const answering = { ...freshness, instanceId: z.uuid() };

/** A license class of the policy model. */
export const LicenseClassSchema = z.enum(LICENSE_CLASSES);

/** The reporting terms of one license class, in days (0: not required). */
export const PolicyTermsSchema = z.object({
  firstReportDays: days,
  reportingFrequencyDays: days,
  onChangeDays: days,
});

/** A policy: its name, whether a Virtual Account customised it, and the terms of every class. */
export const Policy = z.object({
  name: DisplayName.min(1, 'must not be empty'),
  custom: z.boolean(),
  classes: z.object({
    'unenforced-perpetual': PolicyTermsSchema,
    'unenforced-subscription': PolicyTermsSchema,
    enforced: PolicyTermsSchema,
    'export-controlled': PolicyTermsSchema,
  }),
});
export type Policy = z.infer<typeof Policy>;

/** SPEC §9: installing a trust code with a token; like registration, signed with the key of its CSR. */
export const TrustRequest = z.object({
  type: z.literal('trust'),
  ...freshness,
  idToken: z.string().min(1).max(512),
  softwareTag,
  udi: Udi,
  hostname: Hostname.optional(),
  csr: pem,
  force: z.boolean(),
  /** `local`: this device; `all`: every member of a stack (accepted, recorded alike). */
  scope: z.enum(['local', 'all']),
});
export type TrustRequest = z.infer<typeof TrustRequest>;

/**
 * The trust code: an ID certificate for the device key, bound to its UDI and product instance,
 * signed under the authority's signing certificate; with where it is registered and the policy.
 */
export const TrustResponse = z.object({
  type: z.literal('trust-response'),
  ...answering,
  idCertificate: pem,
  idCertSerial: serial,
  idCertExpiresAt: DateMs,
  signingCertificate: pem,
  signingCertSerial: serial,
  smartAccount: z.object({ id: z.string(), name: z.string(), domain: z.string() }),
  virtualAccount: z.object({ id: z.string(), name: z.string() }),
  exportControlled: z.boolean(),
  trustedAt: DateMs,
  policy: Policy,
});
export type TrustResponse = z.infer<typeof TrustResponse>;

/** One measurement of a tag's in-use count: `samples` samples every `sampleIntervalMs` from `start` to `end`. */
export const RumMeasurement = z.object({
  start: DateMs,
  end: DateMs,
  sampleIntervalMs: z.number().int().positive().max(86_400_000),
  samples: z.number().int().positive(),
  count,
});
export type RumMeasurement = z.infer<typeof RumMeasurement>;

/** The measurements of one entitlement tag in a report. */
export const RumTagUsage = z.object({
  tag: EntitlementTag,
  licenseClass: LicenseClassSchema,
  measurements: z.array(RumMeasurement).min(1).max(1000),
});
export type RumTagUsage = z.infer<typeof RumTagUsage>;

/** A RUM report (resource utilisation measurement), signed by the device with its trust-code key. */
export const RumReport = z.object({
  type: z.literal('rum-report'),
  version: z.literal(PROTOCOL_VERSION),
  /** Unique per report: the authority records each once. */
  reportId: z.uuid(),
  instanceId: z.uuid(),
  idCertSerial: serial,
  udi: Udi,
  createdAt: DateMs,
  usage: z.array(RumTagUsage).max(1000),
});
export type RumReport = z.infer<typeof RumReport>;

/** A signed RUM report. */
export const SignedRumReport = z.object({ payload: RumReport, signature: Signature });
export type SignedRumReport = z.infer<typeof SignedRumReport>;

/** SPEC §9: the authority's acknowledgement of the reports it recorded, carrying the current policy. */
export const Ack = z.object({
  type: z.literal('ack'),
  version: z.literal(PROTOCOL_VERSION),
  ackId: z.uuid(),
  instanceId: z.uuid(),
  udi: Udi,
  reportIds: z.array(z.uuid()).max(10_000),
  policy: Policy,
  issuedAt: DateMs,
});
export type Ack = z.infer<typeof Ack>;

/** A signed ACK (signed with the authority's signing certificate). */
export const SignedAck = z.object({ payload: Ack, signature: Signature });
export type SignedAck = z.infer<typeof SignedAck>;

/** Online reporting: the unacknowledged reports (maybe none, to fetch the policy). */
export const UsageRequest = z.object({
  type: z.literal('usage'),
  ...identified,
  reports: z.array(SignedRumReport).max(USAGE_MESSAGE_REPORTS_MAX),
});
export type UsageRequest = z.infer<typeof UsageRequest>;

/** The answer to a usage message: the ACK. */
export const UsageResponse = z.object({
  type: z.literal('usage-response'),
  ...answering,
  ack: SignedAck,
});
export type UsageResponse = z.infer<typeof UsageResponse>;

/** One license a SLAC is asked for or grants. */
export const SlacLicense = z.object({ tag: EntitlementTag, count: z.number().int().positive().max(COUNT_MAX) });
export type SlacLicense = z.infer<typeof SlacLicense>;

/** SPEC §9: asking for a Smart Licensing Authorization Code for enforced or export-controlled tags. */
export const SlacRequest = z.object({
  type: z.literal('slac'),
  ...identified,
  licenses: z.array(SlacLicense).min(1).max(100),
});
export type SlacRequest = z.infer<typeof SlacRequest>;

/** A SLAC: the licenses the authority set aside for this device. */
export const Slac = z.object({
  slacId: z.uuid(),
  instanceId: z.uuid(),
  udi: Udi,
  licenses: z.array(SlacLicense).min(1).max(100),
  issuedAt: DateMs,
});
export type Slac = z.infer<typeof Slac>;

/** The answer to a SLAC request. */
export const SlacResponse = z.object({
  type: z.literal('slac-response'),
  ...answering,
  slac: Slac,
});
export type SlacResponse = z.infer<typeof SlacResponse>;

/** Giving a SLAC back (`license smart authorization return local`). */
export const SlacReturnRequest = z.object({ type: z.literal('slac-return'), ...identified, slacId: z.uuid() });
export type SlacReturnRequest = z.infer<typeof SlacReturnRequest>;

/** The answer to a SLAC return. */
export const SlacReturnResponse = z.object({
  type: z.literal('slac-return-response'),
  ...answering,
  slacId: z.uuid(),
});
export type SlacReturnResponse = z.infer<typeof SlacReturnResponse>;

/** The offline usage file (`license smart save usage all|unreported FILE`): signed reports of one device. */
export const UsageFile = z.object({
  format: z.literal('smartlic-usage'),
  version: z.literal(PROTOCOL_VERSION),
  udi: Udi,
  instanceId: z.uuid(),
  createdAt: DateMs,
  reports: z.array(SignedRumReport).max(USAGE_FILE_REPORTS_MAX),
});
export type UsageFile = z.infer<typeof UsageFile>;

/** The offline ACK file (`admin usage import --out`): a signed ACK bound to the device's UDI, and its signer. */
export const AckFile = z.object({
  format: z.literal('smartlic-ack'),
  version: z.literal(PROTOCOL_VERSION),
  udi: Udi,
  ack: SignedAck,
  signingCertificate: pem,
  /**
   * The intermediate certificates (nearest the signer first, root excluded) between the signing
   * certificate and the root the device trusts: present when a satellite under another satellite
   * signed the ACK.
   */
  chain: z.array(pem).max(MAX_CHAIN_INTERMEDIATES).optional(),
});
export type AckFile = z.infer<typeof AckFile>;

/**
 * An offline SLAC request (`license smart authorization request save FILE`), signed by the device
 * with its trust-code key. `requestId` (made once, on the device) is also the id of the SLAC it
 * gets: answering the same request again answers the same SLAC.
 */
export const SlacFileRequest = z.object({
  type: z.literal('slac-file-request'),
  version: z.literal(PROTOCOL_VERSION),
  requestId: z.uuid(),
  instanceId: z.uuid(),
  idCertSerial: serial,
  udi: Udi,
  licenses: z.array(SlacLicense).min(1).max(100),
  createdAt: DateMs,
});
export type SlacFileRequest = z.infer<typeof SlacFileRequest>;

/** The SLAC request file: the signed request, bound to the device's UDI and product instance. */
export const SlacRequestFile = z.object({
  format: z.literal('smartlic-slac-request'),
  version: z.literal(PROTOCOL_VERSION),
  udi: Udi,
  instanceId: z.uuid(),
  request: z.object({ payload: SlacFileRequest, signature: Signature }),
});
export type SlacRequestFile = z.infer<typeof SlacRequestFile>;

/** A SLAC signed by the authority or satellite (in a SLAC file). */
export const SignedSlac = z.object({ payload: Slac, signature: Signature });
export type SignedSlac = z.infer<typeof SignedSlac>;

/**
 * The SLAC file (`admin authorization import --out`): the signed SLAC, bound to the device's UDI,
 * its signer and, from a satellite under a satellite, the intermediates (`chain`).
 */
export const SlacFile = z.object({
  format: z.literal('smartlic-slac'),
  version: z.literal(PROTOCOL_VERSION),
  udi: Udi,
  slac: SignedSlac,
  signingCertificate: pem,
  chain: z.array(pem).max(MAX_CHAIN_INTERMEDIATES).optional(),
});
export type SlacFile = z.infer<typeof SlacFile>;

/** The request schema of each policy-model device message. */
export const POLICY_REQUEST_SCHEMAS = {
  trust: TrustRequest,
  usage: UsageRequest,
  slac: SlacRequest,
  'slac-return': SlacReturnRequest,
} as const;

/** The response schema of each policy-model device message. */
export const POLICY_RESPONSE_SCHEMAS = {
  trust: TrustResponse,
  usage: UsageResponse,
  slac: SlacResponse,
  'slac-return': SlacReturnResponse,
} as const;
