import type { RegisterResponse } from '@smartlic/protocol';
import type { AgentState } from '../state/agent-state.js';
import { udiText } from './derive-status.js';
import type { Effects } from './effects.js';
import { describeFailure, type Failure, failureRecord } from './failure.js';
import { failedOutcome, reportCommFailure } from './outcomes.js';
import { registrationRetryDelay } from './retry.js';

/** `license smart register idtoken …`: a registration becomes pending; the shell sends it at once. */
export function onRegisterRequested(state: AgentState, idToken: string, force: boolean, fx: Effects): void {
  const reg = state.registration;
  reg.pending = { idToken, force, firstAttemptAt: fx.now, nextAttemptAt: fx.now };
  if (!reg.certificate) reg.status = 'REGISTERING';
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
    nextRenewalAt: now + response.renewIntervalMs,
  };
  state.authorization = {};
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
 * A registration attempt failed. Retryable failures (5xx, network, the device clock being off)
 * keep it REGISTERING with the next attempt scheduled; others end in REGISTRATION FAILED and the
 * token is forgotten. A forced re-registration of a registered device leaves the registration as it was.
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
  const outcome = failedOutcome('register', failure);
  if (reg.certificate) {
    fx.outcome(outcome);
    return;
  }
  reg.initial = { at: fx.now, result: 'FAILED' };
  if (pending && (failure.retryable || failure.code === 'CLOCK_OFFSET')) {
    const nextAttemptAt = fx.now + registrationRetryDelay(pending.firstAttemptAt, fx.now);
    reg.pending = { ...pending, nextAttemptAt };
    reg.status = 'REGISTERING';
  } else {
    reg.status = 'REGISTRATION FAILED';
  }
  fx.outcome(outcome);
}
