import type { RenewIdResponse } from '@smartlic/protocol';
import type { AgentState } from '../state/agent-state.js';
import { formatDate } from '../time-format.js';
import type { Effects } from './effects.js';
import { describeFailure, type Failure, failureRecord } from './failure.js';
import { failedOutcome, reportCommFailure } from './outcomes.js';
import { ID_RENEW_RETRY_MS } from './retry.js';

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
  reg.nextRenewalAt = fx.now + response.renewIntervalMs;
  delete reg.failure;
  state.deviceKeyFingerprint = deviceKeyFingerprint;
  const expires = formatDate(response.idCertExpiresAt);
  fx.event('ID_CERT_RENEW_SUCCESS', `Identity certificate has been successfully renewed. Expiration date: ${expires}`);
  fx.outcome({ action: 'renew-id', ok: true, message: `ID certificate renewed; it expires ${expires}.` });
}

/** ID renewal failed: retry hourly until it succeeds or the certificate expires. */
export function onRenewIdFailed(state: AgentState, failure: Failure, fx: Effects): void {
  const reg = state.registration;
  reg.lastRenewal = { at: fx.now, result: 'FAILED' };
  reg.failure = failureRecord(failure, fx.now);
  reg.nextRenewalAt = fx.now + ID_RENEW_RETRY_MS;
  reportCommFailure(fx, failure);
  fx.event('ID_CERT_RENEW_FAILED', `Identity certificate renewal failed: ${describeFailure(failure)}`);
  fx.outcome(failedOutcome('renew-id', failure));
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
