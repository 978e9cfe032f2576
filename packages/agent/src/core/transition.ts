import type { AuthorizeResponse, RegisterResponse, RenewIdResponse } from '@smartlic/protocol/core';
import type { AgentState, Destination, UsageEntry } from '../state/agent-state.js';
import { onAuthorizeFailed, onAuthorizeSent, onAuthorizeSucceeded, type RenewedSigner } from './authorization.js';
import { type Effect, Effects } from './effects.js';
import { settleEvaluation, syncEvaluation } from './evaluation.js';
import { applyTime } from './expiry.js';
import type { Failure } from './failure.js';
import { onDeregistered, onIdentityRejected, onRenewIdFailed, onRenewIdSucceeded } from './identity.js';
import { onRegisterFailed, onRegisterRequested, onRegisterSent, onRegisterSucceeded } from './registration.js';

/** Everything that can happen to the agent, as data. Results of I/O arrive as inputs too. */
export type Input =
  | { type: 'tick' }
  | { type: 'usage-set'; tag: string; count: number }
  /** `anchors`: the authority roots (sign responses, and TLS); `tlsTrustPoints`: trusted for TLS only. */
  | { type: 'destination-set'; destination: Destination; anchors: string[]; tlsTrustPoints: string[] }
  | { type: 'trust-pinned'; pem: string; fingerprint: string }
  | { type: 'register-requested'; idToken: string; force: boolean }
  | { type: 'register-sent' }
  | { type: 'register-succeeded'; response: RegisterResponse }
  | { type: 'register-failed'; failure: Failure }
  | { type: 'authorize-sent' }
  | {
      type: 'authorize-succeeded';
      response: AuthorizeResponse;
      requested: UsageEntry[];
      /** The server's renewed signing certificate (same key), which the device keeps from now on. */
      renewedSigner?: RenewedSigner;
    }
  | { type: 'authorize-failed'; failure: Failure }
  | { type: 'renew-id-succeeded'; response: RenewIdResponse; deviceKeyFingerprint: string }
  | { type: 'renew-id-failed'; failure: Failure }
  | { type: 'deregistered'; failure?: Failure; deviceKeyFingerprint: string }
  /**
   * An identified message (`action`) was refused because the authority no longer recognises the
   * device's certificates (`rejectsIdentity`): the registration is dropped (seed 003 scenario 6).
   */
  | { type: 'identity-rejected'; action: 'authorize' | 'renew-id' | 'convert'; failure: Failure }
  /** An offline reservation was installed or removed: the evaluation clock stops or resumes. */
  | { type: 'reservation-changed'; installed: boolean };

/** The new state and what the shell must do about it. */
export interface Transition {
  state: AgentState;
  effects: Effect[];
}

/**
 * The agent's one pure decision function: state + input + now → new state + effects. It never
 * mutates `state`, performs no I/O and reads no clock. Time-driven changes (deadlines, expiries,
 * the evaluation clock and its warnings) are applied on every transition, so a `tick` is just
 * "let time pass". `now` is agent time (see `observeClock`). `u` in [0, 1) is the jitter draw
 * for the times this transition schedules (0: the nominal times of SPEC §5 exactly).
 *
 * The states it can reach are those of `ALLOWED_STATES` (`state-table.ts`); the schedules are
 * in `retry.ts`, and what is due when in `scheduler.ts`.
 */
export function transition(state: AgentState, input: Input, now: number, u = 0): Transition {
  const draft = structuredClone(state);
  const fx = new Effects(now, u);
  settleEvaluation(draft.evaluation, fx);
  applyInput(draft, input, fx);
  applyTime(draft, fx);
  return { state: draft, effects: fx.list };
}

/** Inputs about an exchange that needs the registration: ignored once it is gone (expired meanwhile). */
const NEEDS_REGISTRATION: ReadonlySet<Input['type']> = new Set([
  'authorize-sent',
  'authorize-succeeded',
  'authorize-failed',
  'renew-id-succeeded',
  'renew-id-failed',
  'identity-rejected',
]);

function applyInput(state: AgentState, input: Input, fx: Effects): void {
  if (NEEDS_REGISTRATION.has(input.type) && !state.registration.certificate) return;
  switch (input.type) {
    case 'tick':
      break;
    case 'reservation-changed':
      if (input.installed) state.evaluation.reserved = true;
      else delete state.evaluation.reserved;
      syncEvaluation(state, fx);
      break;
    case 'usage-set':
      setUsage(state, input.tag, input.count);
      // A registered device reports a usage change at once (scheduled, so a crash cannot lose it).
      if (state.registration.certificate && (state.usage.length > 0 || state.authorization.grant)) {
        state.authorization.nextAttemptAt = fx.now;
      }
      break;
    case 'destination-set':
      state.destination = input.destination;
      state.trust.anchors = input.anchors;
      state.trust.tlsTrustPoints = input.tlsTrustPoints;
      break;
    case 'trust-pinned':
      state.trust = { ...state.trust, anchors: [input.pem], pinnedFingerprint: input.fingerprint };
      fx.event(
        'TRUSTPOINT_PINNED',
        `Trusting the licensing authority's root certificate, SHA-256 ${input.fingerprint}`,
      );
      break;
    case 'register-requested':
      onRegisterRequested(state, input.idToken, input.force, fx);
      break;
    case 'register-sent':
      onRegisterSent(state);
      break;
    case 'register-succeeded':
      onRegisterSucceeded(state, input.response, fx);
      break;
    case 'register-failed':
      onRegisterFailed(state, input.failure, fx);
      break;
    case 'authorize-sent':
      onAuthorizeSent(state, fx);
      break;
    case 'authorize-succeeded':
      onAuthorizeSucceeded(state, input.response, input.requested, fx, input.renewedSigner);
      break;
    case 'authorize-failed':
      onAuthorizeFailed(state, input.failure, fx);
      break;
    case 'renew-id-succeeded':
      onRenewIdSucceeded(state, input.response, input.deviceKeyFingerprint, fx);
      break;
    case 'renew-id-failed':
      onRenewIdFailed(state, input.failure, fx);
      break;
    case 'identity-rejected':
      onIdentityRejected(state, input.action, input.failure, fx);
      break;
    case 'deregistered':
      onDeregistered(state, input.failure, input.deviceKeyFingerprint, fx);
      break;
  }
}

/** Declares `count` of `tag` in use; 0 removes the tag. Order of first declaration is kept. */
function setUsage(state: AgentState, tag: string, count: number): void {
  const existing = state.usage.find((u) => u.tag === tag);
  if (count === 0) state.usage = state.usage.filter((u) => u.tag !== tag);
  else if (existing) existing.count = count;
  else state.usage.push({ tag, count });
}
