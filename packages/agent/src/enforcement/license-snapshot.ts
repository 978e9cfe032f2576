import { authorizationStatus } from '../core/derive-status.js';
import { evaluationRemaining } from '../core/evaluation.js';
import { transition } from '../core/transition.js';
import type { AgentState, AuthorizationStatus } from '../state/agent-state.js';

/** What enforcement needs to know of the licensing state at one moment. */
export interface LicenseSnapshot {
  /** The authorization status word of SPEC §5. */
  status: AuthorizationStatus;
  /** Whether the token of the registration allowed export-controlled functionality (and the device is registered). */
  exportControlled: boolean;
  /** Evaluation time left (ms); the countdown Expressway shows. */
  evaluationRemainingMs: number;
  /**
   * The count of each tag the state covers: the declared count while evaluating (or after the
   * evaluation or authorization expired: the profile decides); once authorized, the count the
   * authority granted (at most the declared count; a tag out of compliance keeps its declared
   * count, since out of compliance is reported, never enforced); 0 for a tag not yet authorized.
   */
  licensed: ReadonlyMap<string, number>;
  /** Display names the authority sent, by tag. */
  displayNames: ReadonlyMap<string, string>;
}

/** The license snapshot of `current` at `now` (time-driven changes due by `now` applied first). */
export function licenseSnapshot(current: AgentState, now: number): LicenseSnapshot {
  const state = transition(current, { type: 'tick' }, now).state;
  const status = authorizationStatus(state);
  const grant = state.authorization.grant;
  const authorized = status === 'AUTHORIZED' || status === 'OUT OF COMPLIANCE';
  const licensed = new Map<string, number>();
  const displayNames = new Map<string, string>();
  for (const entry of grant?.entitlements ?? []) if (entry.displayName) displayNames.set(entry.tag, entry.displayName);
  for (const { tag, count } of state.usage) {
    if (!authorized) {
      licensed.set(tag, count);
      continue;
    }
    const granted = grant?.entitlements.find((e) => e.tag === tag);
    if (!granted) licensed.set(tag, 0);
    else if (granted.status === 'OutOfCompliance') licensed.set(tag, count);
    else licensed.set(tag, Math.min(count, granted.requested));
  }
  return {
    status,
    exportControlled: Boolean(state.registration.certificate && state.registration.account?.exportControlled),
    evaluationRemainingMs: evaluationRemaining(state.evaluation, now),
    licensed,
    displayNames,
  };
}
