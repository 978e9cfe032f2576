import type { AgentState } from '../state/agent-state.js';
import { evaluationEndsAt, nextEvaluationWarningAt } from './evaluation.js';

/** The exchanges with the authority that the timers can call for. */
export type DueAction = 'register' | 'renew-id' | 'authorize';

/** When the pending registration (or a forced re-registration left unanswered) should be (re)tried. */
function registrationDueAt(state: AgentState): number | undefined {
  return state.registration.pending?.nextAttemptAt;
}

/** When the ID certificate should be renewed (or the renewal retried). */
function renewalDueAt(state: AgentState): number | undefined {
  return state.registration.certificate ? state.registration.nextRenewalAt : undefined;
}

/** When the authorization should be renewed or retried; only while registered and something needs it. */
function authorizationDueAt(state: AgentState): number | undefined {
  if (!state.registration.certificate) return undefined;
  if (state.usage.length === 0 && !state.authorization.grant) return undefined;
  return state.authorization.nextAttemptAt;
}

/** The time of each timed exchange, in the order they should run when due together. */
function exchangeTimes(state: AgentState): [DueAction, number | undefined][] {
  return [
    ['register', registrationDueAt(state)],
    ['renew-id', renewalDueAt(state)],
    ['authorize', authorizationDueAt(state)],
  ];
}

/** The first action due at `now`, if any (the shell runs one, then asks again). */
export function nextDueAction(
  state: AgentState,
  now: number,
  skip: ReadonlySet<DueAction> = new Set(),
): DueAction | undefined {
  for (const [action, at] of exchangeTimes(state)) {
    if (at !== undefined && at <= now && !skip.has(action)) return action;
  }
  return undefined;
}

/**
 * When something is next due: an exchange, the communication deadline, the ID certificate's
 * expiry, the next evaluation expiry warning, or the end of a running evaluation period.
 * Undefined when nothing is scheduled.
 */
export function nextWakeAt(state: AgentState): number | undefined {
  const times: (number | undefined)[] = exchangeTimes(state).map(([, at]) => at);
  const auth = state.authorization;
  if (auth.grant && auth.expiredAt === undefined) times.push(auth.grant.expiresAt);
  times.push(
    state.registration.certificate?.expiresAt,
    evaluationEndsAt(state.evaluation),
    nextEvaluationWarningAt(state.evaluation),
  );
  const defined = times.filter((t): t is number => t !== undefined);
  return defined.length === 0 ? undefined : Math.min(...defined);
}
