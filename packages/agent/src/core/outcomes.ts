import type { Outcome, OutcomeAction } from '../outcome.js';
import type { Effects } from './effects.js';
import { describeFailure, type Failure } from './failure.js';

/** The outcome of `action` failing with `failure`: its reason as the message, its code if known. */
export function failedOutcome(action: OutcomeAction, failure: Failure): Outcome {
  return { action, ok: false, message: failure.reason, ...(failure.code ? { code: failure.code } : {}) };
}

/** `%SMART_LIC-3-COMM_FAILED` for failures where the message got no usable answer. */
export function reportCommFailure(fx: Effects, failure: Failure): void {
  if (failure.transport) {
    fx.event('COMM_FAILED', `Communications failure with the licensing authority: ${describeFailure(failure)}`);
  }
}
