import { DAY } from './clock.js';
import type { TrustResponse } from './policy-messages.js';

/**
 * Smart Licensing Using Policy (SPEC §9): the second device protocol. Routes, license classes,
 * the vendor's default policy and the offline file format names. No I/O, no zod.
 */

/** Device routes of the policy model, relative to the server's base URL (POST, signed envelopes). */
export const POLICY_ROUTES = {
  trust: '/api/v1/device/trust',
  usage: '/api/v1/device/usage',
  slac: '/api/v1/device/slac',
  slacReturn: '/api/v1/device/slac-return',
} as const;

/** The license classes a policy speaks of. */
export const LICENSE_CLASSES = [
  'unenforced-perpetual',
  'unenforced-subscription',
  'enforced',
  'export-controlled',
] as const;

/** One license class (SPEC §9). */
export type LicenseClass = (typeof LICENSE_CLASSES)[number];

/**
 * The reporting terms of one license class, in days: the first report is required within
 * `firstReportDays` of first use, then every `reportingFrequencyDays`, and within
 * `onChangeDays` of a change of use. 0 means "not required".
 */
export interface PolicyTerms {
  firstReportDays: number;
  reportingFrequencyDays: number;
  onChangeDays: number;
}

/** Largest number of days a policy term may hold (ten years). */
export const POLICY_DAYS_MAX = 3650;

/** The vendor's default terms per license class (SPEC §9). */
export const DEFAULT_POLICY_TERMS: Readonly<Record<LicenseClass, PolicyTerms>> = {
  'unenforced-perpetual': { firstReportDays: 365, reportingFrequencyDays: 0, onChangeDays: 90 },
  'unenforced-subscription': { firstReportDays: 90, reportingFrequencyDays: 90, onChangeDays: 90 },
  enforced: { firstReportDays: 0, reportingFrequencyDays: 0, onChangeDays: 0 },
  'export-controlled': { firstReportDays: 0, reportingFrequencyDays: 0, onChangeDays: 0 },
};

/** The name of the default policy, as a device shows it. */
export const DEFAULT_POLICY_NAME = 'Smart Licensing Using Policy default';

/** How often the agent samples the in-use count of a tag for its RUM reports. */
export const RUM_SAMPLE_INTERVAL_MS = 15 * 60_000;

/** The `format` member of a usage file (`license smart save usage`). */
export const USAGE_FILE_FORMAT = 'smartlic-usage';
/** The `format` member of an ACK file (`admin usage import --out`). */
export const ACK_FILE_FORMAT = 'smartlic-ack';
/** The `format` member of a SLAC request file (`license smart authorization request save`). */
export const SLAC_REQUEST_FILE_FORMAT = 'smartlic-slac-request';

/** Most RUM reports one online usage message may carry. */
export const USAGE_MESSAGE_REPORTS_MAX = 100;
/** Most RUM reports one usage file may carry. */
export const USAGE_FILE_REPORTS_MAX = 10_000;

/** Days in ms. */
export function daysMs(days: number): number {
  return days * DAY;
}

/**
 * A trust code: the identity the authority issues a device (its instance, ID certificate, the
 * certificate that signs the authority's answers, its accounts). A trust answer carries it, and
 * the authority takes it from the registration that issued it.
 */
export type TrustCodeFields = Pick<
  TrustResponse,
  | 'instanceId'
  | 'idCertificate'
  | 'idCertSerial'
  | 'idCertExpiresAt'
  | 'signingCertificate'
  | 'signingCertSerial'
  | 'smartAccount'
  | 'virtualAccount'
  | 'exportControlled'
>;

/** The trust code of an answer that carries one (a trust or a registration answer), and no other field. */
export function trustCodeFields(answer: TrustCodeFields): TrustCodeFields {
  return {
    instanceId: answer.instanceId,
    idCertificate: answer.idCertificate,
    idCertSerial: answer.idCertSerial,
    idCertExpiresAt: answer.idCertExpiresAt,
    signingCertificate: answer.signingCertificate,
    signingCertSerial: answer.signingCertSerial,
    smartAccount: answer.smartAccount,
    virtualAccount: answer.virtualAccount,
    exportControlled: answer.exportControlled,
  };
}
