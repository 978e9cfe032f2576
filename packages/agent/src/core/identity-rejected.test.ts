import { DAY, errorMessage, HOUR, MINUTE } from '@smartlic/protocol';
import { describe, expect, it } from 'vitest';
import type { AgentState } from '../state/agent-state.js';
import { buildStatus } from '../status/agent-status.js';
import { formatAll } from '../status/format-status.js';
import { authorizeResponse, freshState, registerResponse, runInputs, T0 } from '../testing/core-fixtures.js';
import { evaluationRemaining } from './evaluation.js';
import type { Failure } from './failure.js';
import { nextWakeAt } from './scheduler.js';
import { stateProblems } from './state-table.js';
import { type Input, transition } from './transition.js';

const MISSING_SERIALS = errorMessage('MISSING_SERIALS');
const rejected: Failure = { reason: MISSING_SERIALS, code: 'MISSING_SERIALS', retryable: false, transport: false };
const rejection = (action: 'authorize' | 'renew-id' | 'convert' = 'authorize'): Input => ({
  type: 'identity-rejected',
  action,
  failure: rejected,
});

/** Used `A` in evaluation from T0, registered and authorized at `at`. */
function authorizedAfterEvaluation(at: number): AgentState {
  return runInputs(freshState(), [
    [{ type: 'usage-set', tag: 'A', count: 1 }, T0],
    [{ type: 'register-requested', idToken: 'tok', force: false }, at],
    [{ type: 'register-succeeded', response: registerResponse(at) }, at],
    [
      {
        type: 'authorize-succeeded',
        response: authorizeResponse(at, 'InCompliance', 23 * HOUR),
        requested: [{ tag: 'A', count: 1 }],
      },
      at,
    ],
  ]);
}

// 24 days, 5 hours and 17 minutes of evaluation used before registering: 65 days, 18 hours, 43 minutes left.
const REGISTERED_AT = T0 + 24 * DAY + 5 * HOUR + 17 * MINUTE;
const LEFT = 65 * DAY + 18 * HOUR + 43 * MINUTE;

describe('an authority that no longer recognises the device’s certificates (seed 003 #6)', () => {
  it('drops the registration and falls back to EVAL MODE with exactly the evaluation time left', () => {
    const before = authorizedAfterEvaluation(REGISTERED_AT);
    const at = REGISTERED_AT + 100 * DAY;
    const { state, effects } = transition(before, rejection(), at);

    expect(state.registration).toEqual({
      status: 'UNREGISTERED',
      initial: { at: REGISTERED_AT, result: 'SUCCEEDED' },
      failure: { at, reason: MISSING_SERIALS, code: 'MISSING_SERIALS' },
    });
    expect(state.authorization).toEqual({});
    expect(state.usage).toEqual([{ tag: 'A', count: 1 }]);
    expect(state.evaluation).toMatchObject({ usedMs: 90 * DAY - LEFT, runningSince: at, startedAt: T0 });
    expect(evaluationRemaining(state.evaluation, at)).toBe(LEFT);
    expect(stateProblems(state, at)).toEqual([]);
    // The evaluation clock resumes: a day later a day less is left (and it is never given back).
    expect(evaluationRemaining(transition(state, { type: 'tick' }, at + DAY).state.evaluation, at + DAY)).toBe(
      LEFT - DAY,
    );
    // Nothing to renew or retry any more; the next wake-up is the evaluation warning at 30 days left.
    expect(nextWakeAt(state)).toBe(at + LEFT - 30 * DAY);

    expect(effects.map((e) => (e.type === 'event' ? e.event.name : `outcome:${e.outcome.action}`))).toEqual([
      '%SMART_LIC-3-ID_CERT_REJECTED',
      'outcome:authorize',
      '%SMART_LIC-5-EVAL_START',
    ]);
    const event = effects[0]?.type === 'event' ? effects[0].event.message : '';
    expect(event).toBe(
      `The licensing authority no longer recognises this device's certificates: ${MISSING_SERIALS}. ` +
        'The device is unregistered and uses its remaining evaluation time (65 days, 18 hours, 43 minutes, 0 seconds); register it again.',
    );
    expect(effects[1]).toEqual({
      type: 'outcome',
      outcome: {
        action: 'authorize',
        ok: false,
        code: 'MISSING_SERIALS',
        message: `${MISSING_SERIALS}. The device is no longer registered and uses its remaining evaluation time (65 days, 18 hours, 43 minutes, 0 seconds); register it again.`,
      },
    });
  });

  it('shows UNREGISTERED, EVAL MODE, the evaluation time left and the failure reason', () => {
    const at = REGISTERED_AT + 100 * DAY;
    const state = transition(authorizedAfterEvaluation(REGISTERED_AT), rejection('renew-id'), at).state;
    const status = buildStatus(state, at);
    expect(status.registration).toMatchObject({
      status: 'UNREGISTERED',
      statusText: 'UNREGISTERED',
      smartAccount: null,
      idCertSerial: null,
      registrationExpires: null,
      failureReason: MISSING_SERIALS,
    });
    expect(status.authorization).toMatchObject({ status: 'EVAL MODE', communicationDeadline: null });
    expect(status.usage).toEqual([expect.objectContaining({ tag: 'A', status: 'EVAL MODE' })]);
    const text = formatAll(status);
    expect(text).toContain(`Registration:\n  Status: UNREGISTERED\n`);
    expect(text).toContain(`  Failure reason: ${MISSING_SERIALS}\n`);
    expect(text).toContain(
      'License Authorization:\n  Status: EVAL MODE\n  Evaluation Period Remaining: 65 days, 18 hours, 43 minutes, 0 seconds',
    );
  });

  it('goes EVAL EXPIRED when no evaluation time is left, without giving any back', () => {
    const before = authorizedAfterEvaluation(T0 + 95 * DAY);
    expect(before.evaluation).toMatchObject({ usedMs: 90 * DAY, expiredAt: T0 + 90 * DAY });
    const at = T0 + 120 * DAY;
    const { state, effects } = transition(before, rejection('convert'), at);
    expect(state.registration.status).toBe('UNREGISTERED');
    expect(buildStatus(state, at).authorization.status).toBe('EVAL EXPIRED');
    expect(state.evaluation).toEqual(before.evaluation);
    expect(stateProblems(state, at)).toEqual([]);
    expect(effects[0]).toMatchObject({
      type: 'event',
      event: {
        type: 'ID_CERT_REJECTED',
        message: expect.stringContaining('has no evaluation time left (EVAL EXPIRED)'),
      },
    });
    expect(effects[1]).toMatchObject({ type: 'outcome', outcome: { action: 'convert', code: 'MISSING_SERIALS' } });
  });

  it('keeps a pending registration (REGISTERING) and is ignored once the registration is gone', () => {
    const at = REGISTERED_AT + DAY;
    const pending = runInputs(authorizedAfterEvaluation(REGISTERED_AT), [
      [{ type: 'register-requested', idToken: 'tok2', force: true }, at],
      [rejection(), at],
    ]);
    expect(pending.registration).toMatchObject({ status: 'REGISTERING', pending: { idToken: 'tok2', force: true } });
    expect(pending.registration.certificate).toBeUndefined();
    expect(stateProblems(pending, at)).toEqual([]);
    expect(nextWakeAt(pending)).toBe(at);

    const unregistered = transition(authorizedAfterEvaluation(REGISTERED_AT), rejection(), at).state;
    const again = transition(unregistered, rejection(), at + HOUR);
    expect(again.effects).toEqual([]);
    expect(again.state.registration).toEqual(unregistered.registration);
  });

  it('is recovered by registering again: the usage is authorized at once and the evaluation clock stops', () => {
    const at = REGISTERED_AT + 100 * DAY;
    const requested = runInputs(authorizedAfterEvaluation(REGISTERED_AT), [
      [rejection(), at],
      [{ type: 'register-requested', idToken: 'tok3', force: false }, at + DAY],
    ]);
    // The authority still holds the old product instance of this UDI: the registration replaces it.
    expect(requested.registration).toMatchObject({ status: 'REGISTERING', pending: { idToken: 'tok3', force: true } });
    const state = transition(
      requested,
      { type: 'register-succeeded', response: registerResponse(at + DAY) },
      at + DAY,
    ).state;
    expect(state.registration.status).toBe('REGISTERED');
    expect(state.registration.failure).toBeUndefined();
    expect(state.authorization.nextAttemptAt).toBe(at + DAY);
    expect(state.evaluation.runningSince).toBeUndefined();
    expect(evaluationRemaining(state.evaluation, at + 10 * DAY)).toBe(LEFT - DAY);
  });
});
