import { type AuthorizeResponse, errorMessage, MINUTE } from '@smartlic/protocol/core';
import type { AgentState, AuthorizationState, Grant, UsageEntry } from '../state/agent-state.js';
import { formatDate } from '../time-format.js';
import { authorizationStatus, udiText } from './derive-status.js';
import type { Effects } from './effects.js';
import { describeFailure, type Failure, failureRecord } from './failure.js';
import { failedOutcome, reportCommFailure } from './outcomes.js';
import { authorizationRetryDelay, jittered, outOfComplianceDelay, retryAt } from './retry.js';

/** An authorization request is on its way: "Last Communication Attempt: PENDING", "Waiting for reply". */
export function onAuthorizeSent(state: AgentState, fx: Effects): void {
  const auth = state.authorization;
  auth.lastAttempt = { at: fx.now, result: 'PENDING' };
  auth.failure = { at: fx.now, reason: errorMessage('WAITING_FOR_REPLY'), code: 'WAITING_FOR_REPLY' };
}

/**
 * The authority answered: record the grant and its deadline. AUTHORIZED renews at
 * `authorizedAt + renewIntervalMs`; OUT OF COMPLIANCE asks again on its retry schedule (every
 * 15 min for 2 h, then every 4 h) to notice licenses added meanwhile. With nothing in use there
 * is nothing to renew. Every time gets jitter and stays before the communication deadline.
 */
/** A renewed signing certificate of the server (same key, new serial), as a response brought it. */
export interface RenewedSigner {
  pem: string;
  serial: string;
}

export function onAuthorizeSucceeded(
  state: AgentState,
  response: AuthorizeResponse,
  requested: UsageEntry[],
  fx: Effects,
  renewedSigner?: RenewedSigner,
): void {
  const certificate = state.registration.certificate;
  if (renewedSigner && certificate) {
    state.registration.certificate = {
      ...certificate,
      signingCertPem: renewedSigner.pem,
      signingCertSerial: renewedSigner.serial,
    };
  }
  const before = state.authorization;
  const hadGrant = before.grant !== undefined && before.expiredAt === undefined;
  const wasCompliance = before.grant?.compliance;
  const next: AuthorizationState = { lastAttempt: { at: fx.now, result: 'SUCCEEDED' } };
  if (before.failingSince !== undefined || before.expiredAt !== undefined) {
    fx.event('COMM_RESTORED', 'Communications with the licensing authority restored');
  }
  followTransfer(state, response);
  if (requested.length > 0) {
    const grant: Grant = {
      compliance: response.status,
      authorizedAt: response.authorizedAt,
      receivedAt: fx.now,
      expiresAt: response.expiresAt,
      renewIntervalMs: response.renewIntervalMs,
      retryIntervalMs: response.retryIntervalMs,
      entitlements: response.entitlements.map((e) => ({
        tag: e.tag,
        requested: e.requested,
        status: e.status,
        ...(e.displayName ? { displayName: e.displayName } : {}),
      })),
    };
    if (grant.compliance === 'OutOfCompliance') {
      grant.outOfComplianceSince =
        wasCompliance === 'OutOfCompliance' ? (before.grant?.outOfComplianceSince ?? fx.now) : fx.now;
    }
    next.grant = grant;
    next.nextAttemptAt = nextAfterSuccess(grant, fx);
  }
  state.authorization = next;
  if (next.grant && (!hadGrant || wasCompliance !== next.grant.compliance)) {
    if (next.grant.compliance === 'InCompliance') {
      fx.event('IN_COMPLIANCE', 'All entitlements and licenses in use on this device are authorized');
    } else {
      fx.event('OUT_OF_COMPLIANCE', 'One or more entitlements are out of compliance');
    }
  }
  fx.event('AUTH_RENEW_SUCCESS', 'Authorization renewal with the licensing authority was successful');
  fx.outcome({ action: 'authorize', ok: true, message: successMessage(state) });
}

/** The renewal time of a fresh grant (OUT OF COMPLIANCE: its retry schedule), with jitter, before the deadline. */
function nextAfterSuccess(grant: Grant, fx: Effects): number {
  const renewal = Math.max(grant.authorizedAt + grant.renewIntervalMs, fx.now + MINUTE);
  if (grant.compliance === 'InCompliance') {
    return jittered(renewal, grant.renewIntervalMs, fx.u, grant.expiresAt);
  }
  const delay = outOfComplianceDelay(grant, grant.outOfComplianceSince ?? fx.now, fx.now);
  return Math.min(renewal, jittered(fx.now + delay, delay, fx.u, grant.expiresAt));
}

function successMessage(state: AgentState): string {
  const status = authorizationStatus(state);
  if (status === 'NO LICENSES IN USE') return 'No licenses in use; the authority has released this device’s usage.';
  const next = state.authorization.nextAttemptAt;
  return `Authorization status: ${status}${next ? `; next renewal ${formatDate(next)}` : ''}.`;
}

/**
 * The request failed: the status stays as it was; the failure and the next retry are recorded
 * (after a `Retry-After`, no earlier than it, with jitter).
 */
export function onAuthorizeFailed(state: AgentState, failure: Failure, fx: Effects): void {
  const auth = state.authorization;
  auth.lastAttempt = { at: fx.now, result: 'FAILED' };
  auth.failure = failureRecord(failure, fx.now);
  auth.failingSince ??= fx.now;
  const delay = authorizationRetryDelay(auth, fx.now);
  const deadline = auth.grant && auth.expiredAt === undefined ? auth.grant.expiresAt : undefined;
  auth.nextAttemptAt = retryAt(failure, fx.now, delay, fx.u, deadline);
  reportCommFailure(fx, failure);
  fx.event(
    'AUTH_RENEW_FAILED',
    `Authorization renewal with the licensing authority: ${describeFailure(failure)} for udi ${udiText(state)}`,
  );
  fx.outcome(failedOutcome('authorize', failure));
}

/**
 * The authority says where the instance is registered now: an operator may have transferred it
 * to another Virtual Account since it registered. Older authorities say nothing; then nothing changes.
 */
function followTransfer(state: AgentState, response: AuthorizeResponse): void {
  const account = state.registration.account;
  if (!account || !response.smartAccount || !response.virtualAccount) return;
  state.registration.account = {
    ...account,
    smartAccount: response.smartAccount,
    virtualAccount: response.virtualAccount,
  };
}
