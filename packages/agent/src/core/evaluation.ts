import { DEFAULT_TIMERS } from '@smartlic/protocol';
import type { AgentState, EvaluationState } from '../state/agent-state.js';
import { formatDate, formatDuration } from '../time-format.js';
import type { Effects } from './effects.js';

/** The evaluation period: 90 days of use (SPEC §5). */
export const EVALUATION_PERIOD_MS = DEFAULT_TIMERS.evaluationPeriodMs;

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

/** The clock runs while the device is unidentified, uses licenses, and has time left (SPEC §5). */
export function evaluationShouldRun(state: AgentState): boolean {
  return (
    state.registration.certificate === undefined && state.usage.length > 0 && state.evaluation.expiredAt === undefined
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
