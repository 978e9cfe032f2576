import { DEFAULT_TIMERS } from '@smartlic/protocol';
import type { AuthorizationState } from '../state/agent-state.js';

const T = DEFAULT_TIMERS;

/** Registration retry: every 15 minutes for 4 hours from the first attempt, then hourly (seed 004). */
export function registrationRetryDelay(firstAttemptAt: number, now: number): number {
  return now - firstAttemptAt < T.registrationRetryFastWindowMs ? T.registrationRetryFastMs : T.registrationRetrySlowMs;
}

/** ID certificate renewal retry: hourly until it succeeds or the certificate expires. */
export const ID_RENEW_RETRY_MS = T.idCertRetryMs;

/**
 * Authorization retry after a failure at `now` (seed 004), with the authority's retry interval
 * replacing the steady default once it has sent one:
 * AUTHORIZED every 23 h; OUT OF COMPLIANCE every 15 min for 2 h then every 4 h;
 * AUTHORIZATION EXPIRED hourly; never authorized yet, 15 min for 2 h then hourly.
 */
export function authorizationRetryDelay(auth: AuthorizationState, now: number): number {
  const grant = auth.grant;
  const failingFor = now - (auth.failingSince ?? now);
  const fast = failingFor < T.authRetryOutOfComplianceFastWindowMs;
  if (!grant) return fast ? T.authRetryOutOfComplianceFastMs : T.authRetryExpiredMs;
  if (auth.expiredAt !== undefined) return T.authRetryExpiredMs;
  if (grant.compliance === 'InCompliance') return grant.retryIntervalMs;
  return fast ? T.authRetryOutOfComplianceFastMs : grant.retryIntervalMs;
}
