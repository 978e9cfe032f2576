import type { RegisterResponse } from '@smartlic/protocol/core';
import type { AgentState } from '../state/agent-state.js';
import { udiText } from './derive-status.js';
import type { Effects } from './effects.js';
import { describeFailure, type Failure, failureRecord } from './failure.js';
import { renewalTime } from './identity.js';
import { failedOutcome, reportCommFailure } from './outcomes.js';
import { registrationRetryDelay, retryAt } from './retry.js';

/**
 * `license smart register idtoken …`: a registration becomes pending; the shell sends it at once.
 * A device unregistered because the authority stopped recognising its certificates (seed 003 #6)
 * is still on the authority's books, so it registers with `force`, replacing that product instance
 * instead of being refused as "Product Already Registered".
 */
export function onRegisterRequested(state: AgentState, idToken: string, force: boolean, fx: Effects): void {
  const reg = state.registration;
  const maybeDelivered = reg.pending?.maybeDelivered;
  const identityRejected = !reg.certificate && reg.failure?.code === 'MISSING_SERIALS';
  reg.pending = {
    idToken,
    force: force || identityRejected,
    firstAttemptAt: fx.now,
    nextAttemptAt: fx.now,
    ...(maybeDelivered ? { maybeDelivered } : {}),
  };
  if (!reg.certificate) reg.status = 'REGISTERING';
}

/**
 * A registration attempt is about to go out. Until an answer comes back the authority may have
 * registered the device without the agent learning it (a crash, a lost answer), so a later
 * attempt is sent with `force` rather than be refused as "Product Already Registered".
 */
export function onRegisterSent(state: AgentState): void {
  const pending = state.registration.pending;
  if (pending) pending.maybeDelivered = true;
}

/** The `force` flag to send with the pending registration. */
export function registrationForce(pending: { force: boolean; maybeDelivered?: boolean }): boolean {
  return pending.force || pending.maybeDelivered === true;
}

/** The authority issued an ID certificate: the device is REGISTERED (identified) from now on. */
export function onRegisterSucceeded(state: AgentState, response: RegisterResponse, fx: Effects): void {
  const now = fx.now;
  state.registration = {
    status: 'REGISTERED',
    certificate: {
      instanceId: response.instanceId,
      pem: response.idCertificate,
      serial: response.idCertSerial,
      issuedAt: now,
      expiresAt: response.idCertExpiresAt,
      renewIntervalMs: response.renewIntervalMs,
      signingCertPem: response.signingCertificate,
      signingCertSerial: response.signingCertSerial,
    },
    account: {
      smartAccount: response.smartAccount,
      virtualAccount: response.virtualAccount,
      exportControlled: response.exportControlled,
    },
    initial: { at: now, result: 'SUCCEEDED' },
  };
  const certificate = state.registration.certificate;
  if (certificate) state.registration.nextRenewalAt = renewalTime(certificate, fx);
  // The usage is authorized at once; scheduling it now lets a crash before that resume it.
  state.authorization = state.usage.length > 0 ? { nextAttemptAt: now } : {};
  if (response.exportControlled) fx.event('EXPORT_CONTROLLED', 'Usage of export controlled features is allowed');
  fx.event(
    'AGENT_REG_SUCCESS',
    `Smart Agent for Licensing Registration with the licensing authority succeeded for udi ${udiText(state)}`,
  );
  const where = `${response.smartAccount.name} / ${response.virtualAccount.name}`;
  fx.outcome({
    action: 'register',
    ok: true,
    message: `Registered as product instance ${response.instanceId} (${where}).`,
  });
}

/**
 * A registration attempt failed. Retryable failures (5xx, 429, network, the device clock being off)
 * keep it REGISTERING with the next attempt scheduled (after a `Retry-After`, no earlier than it); others end in REGISTRATION FAILED and the
 * token is forgotten. A forced re-registration of a registered device leaves the registration as
 * it was, unless the attempt may have reached the authority unanswered: then it is retried.
 */
export function onRegisterFailed(state: AgentState, failure: Failure, fx: Effects): void {
  const reg = state.registration;
  const pending = reg.pending;
  delete reg.pending;
  reg.failure = failureRecord(failure, fx.now);
  fx.event(
    'AGENT_REG_FAILED',
    `Smart Agent for Licensing Registration with the licensing authority failed: ${describeFailure(failure)}`,
  );
  reportCommFailure(fx, failure);
  const unanswered =
    pending?.maybeDelivered === true && failure.transport && failure.code !== 'TRANSPORT_NOT_AVAILABLE';
  const retry = pending && (failure.retryable || failure.code === 'CLOCK_OFFSET');
  if (pending && retry && (!reg.certificate || unanswered)) {
    const delay = registrationRetryDelay(pending.firstAttemptAt, fx.now);
    const { maybeDelivered: _, ...rest } = pending;
    reg.pending = { ...rest, nextAttemptAt: retryAt(failure, fx.now, delay, fx.u) };
    if (unanswered) reg.pending.maybeDelivered = true;
  }
  if (!reg.certificate) {
    reg.initial = { at: fx.now, result: 'FAILED' };
    reg.status = reg.pending ? 'REGISTERING' : 'REGISTRATION FAILED';
  }
  fx.outcome(failedOutcome('register', failure));
}
