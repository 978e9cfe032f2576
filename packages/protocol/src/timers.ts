import { DAY, HOUR, MINUTE } from './clock.js';

/** Default timer values of SPEC §5; the server's answers override them. */
export const DEFAULT_TIMERS = {
  /** Evaluation period: 90 days of use. */
  evaluationPeriodMs: 90 * DAY,
  /** Registration retry: every 15 minutes for 4 hours, then hourly. */
  registrationRetryFastMs: 15 * MINUTE,
  registrationRetryFastWindowMs: 4 * HOUR,
  registrationRetrySlowMs: HOUR,
  /** ID certificate: valid 360 days, renewed at 180 days, retried hourly. */
  idCertValidityMs: 360 * DAY,
  idCertRenewIntervalMs: 180 * DAY,
  idCertRetryMs: HOUR,
  /** Authorization: valid 90 days, renewed every 30 days. */
  authorizationValidityMs: 90 * DAY,
  authorizationRenewIntervalMs: 30 * DAY,
  /** Retries of a failed authorization renewal, per state. */
  authRetryAuthorizedMs: 23 * HOUR,
  authRetryOutOfComplianceFastMs: 15 * MINUTE,
  authRetryOutOfComplianceFastWindowMs: 2 * HOUR,
  authRetryOutOfComplianceSlowMs: 4 * HOUR,
  authRetryExpiredMs: HOUR,
  /** Server-side silence thresholds. */
  silentAlertMs: 30 * DAY,
  silentReleaseMs: 90 * DAY,
  silentRemoveMs: 365 * DAY,
  /** Default tolerated device clock offset. */
  clockToleranceMs: HOUR,
} as const;
