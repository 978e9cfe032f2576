import { DEFAULT_TIMERS } from '@smartlic/protocol/core';
import type { AgentState } from '../state/agent-state.js';
import { formatDate } from '../time-format.js';
import type { Effects } from './effects.js';
import { syncEvaluation } from './evaluation.js';
import { jittered } from './retry.js';

/**
 * Applies what the passage of time does at `fx.now`: the authorization lapses at its
 * communication deadline, the ID certificate at its expiry (the device becomes unidentified and
 * its evaluation clock resumes from that moment), and the evaluation period when used up.
 */
export function applyTime(state: AgentState, fx: Effects): void {
  expireAuthorization(state, fx);
  const resumeAt = expireIdCertificate(state, fx);
  syncEvaluation(state, fx, resumeAt);
}

function expireAuthorization(state: AgentState, fx: Effects): void {
  const auth = state.authorization;
  const grant = auth.grant;
  if (!grant || auth.expiredAt !== undefined || fx.now < grant.expiresAt) return;
  auth.expiredAt = grant.expiresAt;
  const hourly = DEFAULT_TIMERS.authRetryExpiredMs;
  auth.nextAttemptAt = Math.min(
    auth.nextAttemptAt ?? Number.POSITIVE_INFINITY,
    jittered(fx.now + hourly, hourly, fx.u),
  );
  const message = `Authorization expired on ${formatDate(grant.expiresAt)}: the device did not renew its entitlement authorizations by the communication deadline`;
  fx.event('AUTHORIZATION_EXPIRED', message);
  fx.outcome({ action: 'expire', ok: false, message: `${message}.` });
}

function expireIdCertificate(state: AgentState, fx: Effects): number | undefined {
  const cert = state.registration.certificate;
  if (!cert || fx.now < cert.expiresAt) return undefined;
  state.registration = {
    status: 'REGISTRATION EXPIRED',
    failure: {
      at: fx.now,
      reason: 'The ID certificate has expired; register the product again.',
      code: 'CERTIFICATE_EXPIRED',
    },
    ...(state.registration.initial ? { initial: state.registration.initial } : {}),
  };
  state.authorization = {};
  const message = `Identity certificate expired on ${formatDate(cert.expiresAt)}; the device is unidentified and uses any remaining evaluation time. Register it again.`;
  fx.event('ID_CERT_EXPIRED', message);
  fx.outcome({ action: 'expire', ok: false, message });
  return cert.expiresAt;
}
