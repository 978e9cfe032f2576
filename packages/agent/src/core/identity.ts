import type { RenewIdResponse } from '@smartlic/protocol/core';
import type { AgentState, IdCertificate } from '../state/agent-state.js';
import { formatDate, formatDuration } from '../time-format.js';
import type { Effects } from './effects.js';
import { evaluationRemaining } from './evaluation.js';
import { describeFailure, type Failure, failureRecord } from './failure.js';
import { failedOutcome, reportCommFailure } from './outcomes.js';
import { afterRetryAfter, ID_RENEW_RETRY_MS, jittered } from './retry.js';

/** A renewed ID certificate (for the new device key whose fingerprint is given) replaces the old one. */
export function onRenewIdSucceeded(
  state: AgentState,
  response: RenewIdResponse,
  deviceKeyFingerprint: string,
  fx: Effects,
): void {
  const reg = state.registration;
  reg.certificate = {
    instanceId: response.instanceId,
    pem: response.idCertificate,
    serial: response.idCertSerial,
    issuedAt: fx.now,
    expiresAt: response.idCertExpiresAt,
    renewIntervalMs: response.renewIntervalMs,
    signingCertPem: response.signingCertificate,
    signingCertSerial: response.signingCertSerial,
  };
  reg.lastRenewal = { at: fx.now, result: 'SUCCEEDED' };
  reg.nextRenewalAt = renewalTime(reg.certificate, fx);
  delete reg.failure;
  state.deviceKeyFingerprint = deviceKeyFingerprint;
  const expires = formatDate(response.idCertExpiresAt);
  fx.event('ID_CERT_RENEW_SUCCESS', `Identity certificate has been successfully renewed. Expiration date: ${expires}`);
  fx.outcome({ action: 'renew-id', ok: true, message: `ID certificate renewed; it expires ${expires}.` });
}

/**
 * When a certificate received at `fx.now` is renewed: after its renew interval (180 days from
 * smartlic), with jitter, always before it expires.
 */
export function renewalTime(cert: IdCertificate, fx: Effects): number | undefined {
  return retryBefore(cert, fx.now + cert.renewIntervalMs, cert.renewIntervalMs, fx);
}

/** `nominal` with jitter, if that comes before the certificate expires (an attempt at expiry is too late). */
function retryBefore(cert: IdCertificate, nominal: number, intervalMs: number, fx: Effects): number | undefined {
  const lastUseful = cert.expiresAt - 1;
  return nominal > lastUseful ? undefined : jittered(nominal, intervalMs, fx.u, lastUseful);
}

/** After a `Retry-After`: no earlier than it, with jitter, if that is still before the certificate expires. */
function afterRetryAfterBefore(cert: IdCertificate, retryAfterMs: number, fx: Effects): number | undefined {
  const lastUseful = cert.expiresAt - 1;
  return fx.now + retryAfterMs > lastUseful ? undefined : afterRetryAfter(fx.now, retryAfterMs, fx.u, lastUseful);
}

/** ID renewal failed: retry hourly (or when the authority's `Retry-After` says) until it succeeds or the certificate expires. */
export function onRenewIdFailed(state: AgentState, failure: Failure, fx: Effects): void {
  const reg = state.registration;
  reg.lastRenewal = { at: fx.now, result: 'FAILED' };
  reg.failure = failureRecord(failure, fx.now);
  const next =
    reg.certificate &&
    (failure.retryAfterMs === undefined
      ? retryBefore(reg.certificate, fx.now + ID_RENEW_RETRY_MS, ID_RENEW_RETRY_MS, fx)
      : afterRetryAfterBefore(reg.certificate, failure.retryAfterMs, fx));
  if (next) reg.nextRenewalAt = next;
  else delete reg.nextRenewalAt;
  reportCommFailure(fx, failure);
  fx.event('ID_CERT_RENEW_FAILED', `Identity certificate renewal failed: ${describeFailure(failure)}`);
  fx.outcome(failedOutcome('renew-id', failure));
}

/**
 * The authority refused `action` because it no longer recognises the device's certificates (seed
 * 003 scenario 6: "Missing ID Cert Serial Number Field; …", e.g. a satellite's signing certificate
 * was replaced). The registration — ID certificate, signing certificate, account — and the
 * authorization are dropped: the device is UNREGISTERED (REGISTERING if a registration is pending)
 * and falls back to what is left of its evaluation period, EVAL MODE (EVAL EXPIRED with none
 * left); the clock resumes, never reset. The usage stays declared, so registering again
 * authorizes it. The device key is kept.
 */
export function onIdentityRejected(
  state: AgentState,
  action: 'authorize' | 'renew-id' | 'convert',
  failure: Failure,
  fx: Effects,
): void {
  const { pending, initial } = state.registration;
  state.registration = {
    status: pending ? 'REGISTERING' : 'UNREGISTERED',
    ...(pending ? { pending } : {}),
    ...(initial ? { initial } : {}),
    failure: failureRecord(failure, fx.now),
  };
  state.authorization = {};
  const ev = state.evaluation;
  const fallback =
    ev.expiredAt === undefined
      ? `uses its remaining evaluation time (${formatDuration(evaluationRemaining(ev, fx.now))})`
      : 'has no evaluation time left (EVAL EXPIRED)';
  fx.event(
    'ID_CERT_REJECTED',
    `The licensing authority no longer recognises this device's certificates: ${describeFailure(failure)}. ` +
      `The device is unregistered and ${fallback}; register it again.`,
  );
  fx.outcome({
    ...failedOutcome(action, failure),
    message: `${failure.reason}. The device is no longer registered and ${fallback}; register it again.`,
  });
}

/**
 * The local registration is removed whether or not the authority answered (`failure` says why
 * it did not); the device key was replaced for the next registration. Evaluation time stays as it was.
 */
export function onDeregistered(
  state: AgentState,
  failure: Failure | undefined,
  deviceKeyFingerprint: string,
  fx: Effects,
): void {
  const wasRegistered = state.registration.certificate !== undefined;
  const wasPending = state.registration.pending !== undefined;
  state.registration = { status: 'UNREGISTERED' };
  state.authorization = {};
  state.deviceKeyFingerprint = deviceKeyFingerprint;
  if (!wasRegistered) {
    const message = wasPending
      ? 'The pending registration was cancelled.'
      : 'The device is not registered; nothing to deregister.';
    fx.outcome({ action: 'deregister', ok: true, message });
  } else if (!failure) {
    fx.event('AGENT_DEREG_SUCCESS', 'Smart Agent for Licensing deregistration with the licensing authority succeeded');
    fx.outcome({
      action: 'deregister',
      ok: true,
      message: 'Deregistered; the authority has removed this product instance.',
    });
  } else {
    reportCommFailure(fx, failure);
    fx.event(
      'AGENT_DEREG_FAILED',
      `Smart Agent for Licensing deregistration with the licensing authority failed: ${describeFailure(failure)}`,
    );
    const message =
      `The local registration was removed, but the authority could not confirm it (${failure.reason}); ` +
      'remove the product instance there.';
    fx.outcome({ ...failedOutcome('deregister', failure), message });
  }
}
