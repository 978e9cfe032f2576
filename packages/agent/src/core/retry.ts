import { DAY, DEFAULT_TIMERS, MINUTE } from '@smartlic/protocol/core';
import type { AuthorizationState, Grant } from '../state/agent-state.js';
import type { Failure } from './failure.js';

const T = DEFAULT_TIMERS;

/** Jitter is at most this fraction of the interval it is added to… */
export const JITTER_FRACTION = 0.1;
/** …and at most this long, so that a 180-day renewal is not pushed by weeks. */
export const JITTER_CAP_MS = DAY;

/**
 * The delay added to a nominal time so that a fleet does not call home in lockstep: `u` (a draw
 * from the injected `random`, in [0, 1)) times 10 % of `intervalMs`, capped at one day.
 * Jitter only ever delays; `u = 0` gives the nominal time exactly.
 */
export function jitterMs(intervalMs: number, u: number): number {
  const draw = Number.isFinite(u) ? Math.min(Math.max(u, 0), 1) : 0;
  return Math.floor(draw * Math.min(intervalMs * JITTER_FRACTION, JITTER_CAP_MS));
}

/**
 * `nominal` plus jitter for an `intervalMs` schedule, never later than `deadline` (an expiry the
 * attempt must come before) and never earlier than `nominal`.
 */
export function jittered(nominal: number, intervalMs: number, u: number, deadline?: number): number {
  const at = nominal + jitterMs(intervalMs, u);
  return deadline === undefined ? at : Math.max(nominal, Math.min(at, deadline));
}

/** After a `Retry-After`, the next attempts of a fleet spread over at least this long… */
export const RETRY_AFTER_SPREAD_MS = MINUTE;

/**
 * When to try again after the authority said "wait `retryAfterMs`" (429 `Retry-After`): never
 * earlier than that, plus a jitter of `u` times the wait (at least a minute, at most a day), so
 * that devices told the same time — a site behind one address — do not come back together.
 * Before `deadline` if the jitter would pass it, but never before the wait is over.
 */
export function afterRetryAfter(now: number, retryAfterMs: number, u: number, deadline?: number): number {
  const nominal = now + Math.max(0, retryAfterMs);
  const spread = Math.min(Math.max(retryAfterMs, RETRY_AFTER_SPREAD_MS), JITTER_CAP_MS);
  const draw = Number.isFinite(u) ? Math.min(Math.max(u, 0), 1) : 0;
  const at = nominal + Math.floor(draw * spread);
  return deadline === undefined ? at : Math.max(nominal, Math.min(at, deadline));
}

/**
 * The next attempt after `failure` at `now`: when the authority said how long to wait
 * ({@link afterRetryAfter}), then; otherwise the `delayMs` schedule with jitter ({@link jittered}).
 */
export function retryAt(failure: Failure, now: number, delayMs: number, u: number, deadline?: number): number {
  return failure.retryAfterMs === undefined
    ? jittered(now + delayMs, delayMs, u, deadline)
    : afterRetryAfter(now, failure.retryAfterMs, u, deadline);
}

/** Registration retry: every 15 minutes for 4 hours from the first attempt, then hourly (seed 004). */
export function registrationRetryDelay(firstAttemptAt: number, now: number): number {
  return now - firstAttemptAt < T.registrationRetryFastWindowMs ? T.registrationRetryFastMs : T.registrationRetrySlowMs;
}

/** ID certificate renewal retry: hourly until it succeeds or the certificate expires. */
export const ID_RENEW_RETRY_MS = T.idCertRetryMs;

/**
 * OUT OF COMPLIANCE: every 15 minutes for the first 2 hours of `since`, then every 4 hours —
 * or every `retryIntervalMs` the authority sent when that is longer than 15 minutes (a CUSP
 * authority sends 12 hours). An interval of 15 minutes or less (smartlic's server sends 15
 * minutes) is the fast phase's, so the slow phase stays 4 hours.
 */
export function outOfComplianceDelay(grant: Grant, since: number, now: number): number {
  const sent = grant.retryIntervalMs;
  if (now - since < T.authRetryOutOfComplianceFastWindowMs) return Math.min(T.authRetryOutOfComplianceFastMs, sent);
  return sent > T.authRetryOutOfComplianceFastMs ? sent : T.authRetryOutOfComplianceSlowMs;
}

/**
 * Authorization retry after a failure at `now` (seed 004), with the authority's retry interval
 * replacing the default once it has sent one: AUTHORIZED every 23 h; OUT OF COMPLIANCE every
 * 15 min for 2 h then every 4 h; AUTHORIZATION EXPIRED hourly; never authorized yet, every
 * 15 min for 2 h then hourly. Fast phases count from the first failure of the current run.
 */
export function authorizationRetryDelay(auth: AuthorizationState, now: number): number {
  const grant = auth.grant;
  const since = auth.failingSince ?? now;
  if (!grant) {
    return now - since < T.authRetryOutOfComplianceFastWindowMs
      ? T.authRetryOutOfComplianceFastMs
      : T.authRetryExpiredMs;
  }
  if (auth.expiredAt !== undefined) return T.authRetryExpiredMs;
  if (grant.compliance === 'InCompliance') return grant.retryIntervalMs;
  return outOfComplianceDelay(grant, since, now);
}
