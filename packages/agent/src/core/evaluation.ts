import { DAY, DEFAULT_TIMERS } from '@smartlic/protocol/core';
import type { AgentState, EvaluationState } from '../state/agent-state.js';
import { formatDate, formatDuration } from '../time-format.js';
import type { Effects } from './effects.js';

/** The evaluation period: 90 days of use (SPEC §5). */
export const EVALUATION_PERIOD_MS = DEFAULT_TIMERS.evaluationPeriodMs;

/** Days of evaluation time remaining at which `%SMART_LIC-4-EVAL_WILL_EXPIRE_WARNING` is given, once each. */
export const EVALUATION_WARNING_DAYS = [30, 15, 7, 1] as const;

/** Evaluation time used by `now`, including the running stretch; a clock set backwards adds nothing. */
export function evaluationUsed(ev: EvaluationState, now: number): number {
  const running = ev.runningSince === undefined ? 0 : Math.max(0, now - ev.runningSince);
  return Math.min(EVALUATION_PERIOD_MS, ev.usedMs + running);
}

/** Evaluation time left at `now`. */
export function evaluationRemaining(ev: EvaluationState, now: number): number {
  return EVALUATION_PERIOD_MS - evaluationUsed(ev, now);
}

/** When the running clock reaches the end of the period, or undefined while it is stopped. */
export function evaluationEndsAt(ev: EvaluationState): number | undefined {
  return ev.runningSince === undefined ? undefined : ev.runningSince + (EVALUATION_PERIOD_MS - ev.usedMs);
}

/**
 * The clock runs while the device is unidentified, uses licenses, has time left (SPEC §5), and
 * holds no installed reservation (SPEC §7: a reserved device is licensed).
 */
export function evaluationShouldRun(state: AgentState): boolean {
  return (
    state.registration.certificate === undefined &&
    state.usage.length > 0 &&
    state.evaluation.expiredAt === undefined &&
    state.evaluation.reserved !== true
  );
}

/**
 * Moves the running stretch into `usedMs`. Time is never refunded: a clock set backwards
 * restarts the stretch at the earlier time, so the stretch is counted again, not given back.
 */
export function accrueEvaluation(ev: EvaluationState, now: number): void {
  if (ev.runningSince === undefined) return;
  ev.usedMs = evaluationUsed(ev, now);
  ev.runningSince = now;
}

/**
 * Brings a running evaluation clock up to `fx.now`: expires it at the exact moment it ran out
 * (reported once), or else moves the running stretch into `usedMs`.
 */
export function settleEvaluation(ev: EvaluationState, fx: Effects): void {
  const endsAt = evaluationEndsAt(ev);
  if (endsAt === undefined || endsAt > fx.now) {
    accrueEvaluation(ev, fx.now);
    if (endsAt !== undefined) warnOfExpiry(ev, endsAt, fx);
    return;
  }
  ev.usedMs = EVALUATION_PERIOD_MS;
  ev.expiredAt = endsAt;
  delete ev.runningSince;
  fx.event('EVAL_EXPIRED', `Evaluation period expired on ${formatDate(endsAt)}`);
  fx.outcome({ action: 'expire', ok: false, message: `The evaluation period expired on ${formatDate(endsAt)}.` });
}

/**
 * Starts or stops the evaluation clock to match the state, then settles it. `since` backdates
 * a start, e.g. to the moment an ID certificate expired.
 */
export function syncEvaluation(state: AgentState, fx: Effects, since = fx.now): void {
  const ev = state.evaluation;
  if (evaluationShouldRun(state)) {
    if (ev.runningSince === undefined) {
      ev.runningSince = Math.min(since, fx.now);
      ev.startedAt ??= ev.runningSince;
      const remaining = formatDuration(evaluationRemaining(ev, ev.runningSince));
      fx.event('EVAL_START', `Entering evaluation period; ${remaining} remaining`);
    }
  } else if (ev.runningSince !== undefined) {
    accrueEvaluation(ev, fx.now);
    delete ev.runningSince;
  }
  settleEvaluation(ev, fx);
}

/** Warning thresholds (days) not given yet, largest first. */
function pendingWarnings(ev: EvaluationState): number[] {
  return EVALUATION_WARNING_DAYS.filter((days) => ev.warnedDays === undefined || days < ev.warnedDays);
}

/**
 * Gives the expiry warning of the smallest threshold the remaining time has reached (one event
 * even when a stopped device crossed several at once), and remembers it so it is never repeated.
 */
function warnOfExpiry(ev: EvaluationState, endsAt: number, fx: Effects): void {
  const remaining = endsAt - fx.now;
  const reached = pendingWarnings(ev).filter((days) => remaining <= days * DAY);
  const days = reached.at(-1);
  if (days === undefined) return;
  ev.warnedDays = days;
  fx.event(
    'EVAL_WILL_EXPIRE_WARNING',
    `Evaluation period will expire in ${formatDuration(remaining)} (on ${formatDate(endsAt)})`,
  );
}

/** When the next expiry warning is due, while the evaluation clock runs. */
export function nextEvaluationWarningAt(ev: EvaluationState): number | undefined {
  const endsAt = evaluationEndsAt(ev);
  const days = pendingWarnings(ev)[0];
  return endsAt === undefined || days === undefined ? undefined : endsAt - days * DAY;
}
