import { DAY, HOUR, MINUTE } from '@smartlic/protocol';
import { describe, expect, it } from 'vitest';
import type { AgentState } from '../state/agent-state.js';
import { authorizedState, freshState, registeredState, runInputs, T0 } from '../testing/core-fixtures.js';
import type { Failure } from './failure.js';
import { nextDueAction, nextWakeAt } from './scheduler.js';
import { transition } from './transition.js';

const busy: Failure = { reason: 'busy', code: 'SERVER_BUSY', retryable: true, transport: false };
const down: Failure = { reason: 'down', code: 'SEND_FAILED', retryable: true, transport: true };

const fresh = freshState;
const run = runInputs;
const registeredAt = (at: number): AgentState => registeredState(at);
const authorizedAt = (at: number, status: 'InCompliance' | 'OutOfCompliance'): AgentState =>
  authorizedState(at, status, status === 'InCompliance' ? 23 * HOUR : 4 * HOUR);

describe('transition', () => {
  it('never mutates its input', () => {
    const state = fresh();
    const copy = structuredClone(state);
    transition(state, { type: 'usage-set', tag: 'A', count: 3 }, T0 + DAY);
    transition(state, { type: 'register-requested', idToken: 'x', force: false }, T0);
    expect(state).toEqual(copy);
  });

  it('retries a registration every 15 minutes for 4 hours, then hourly', () => {
    let state = transition(fresh(), { type: 'register-requested', idToken: 'tok', force: false }, T0).state;
    const attempts: number[] = [];
    let at = T0;
    for (let i = 0; i < 20; i++) {
      state = transition(state, { type: 'register-failed', failure: busy }, at).state;
      const next = state.registration.pending!.nextAttemptAt;
      attempts.push((next - at) / MINUTE);
      expect(nextDueAction(state, next)).toBe('register');
      at = next;
    }
    expect(attempts.slice(0, 16)).toEqual(Array(16).fill(15));
    expect(attempts.slice(16)).toEqual(Array(4).fill(60));
    expect(state.registration.status).toBe('REGISTERING');
    expect(state.registration.pending?.idToken).toBe('tok');
  });

  it('forgets the token when a registration fails for good', () => {
    const state = run(fresh(), [
      [{ type: 'register-requested', idToken: 'tok', force: false }, T0],
      [{ type: 'register-failed', failure: { ...busy, retryable: false, code: 'TOKEN_EXPIRED' } }, T0],
    ]);
    expect(state.registration).toMatchObject({ status: 'REGISTRATION FAILED', failure: { code: 'TOKEN_EXPIRED' } });
    expect(JSON.stringify(state)).not.toContain('tok"');
    expect(nextWakeAt(state)).toBeUndefined();
  });

  it('retries a failed renewal of an AUTHORIZED device after 23 hours, as the authority said', () => {
    const state = transition(
      authorizedAt(T0, 'InCompliance'),
      { type: 'authorize-failed', failure: down },
      T0 + 30 * DAY,
    );
    expect(state.state.authorization.nextAttemptAt).toBe(T0 + 30 * DAY + 23 * HOUR);
    expect(state.effects.map((e) => (e.type === 'event' ? e.event.type : e.outcome.action))).toEqual([
      'COMM_FAILED',
      'AUTH_RENEW_FAILED',
      'authorize',
    ]);
  });

  it('expires the authorization at its deadline and retries hourly from then', () => {
    let state = authorizedAt(T0, 'InCompliance');
    state = transition(state, { type: 'authorize-failed', failure: down }, T0 + 89 * DAY + 12 * HOUR).state;
    expect(nextWakeAt(state)).toBe(T0 + 90 * DAY);
    const { state: expired, effects } = transition(state, { type: 'tick' }, T0 + 90 * DAY);
    expect(expired.authorization.expiredAt).toBe(T0 + 90 * DAY);
    expect(expired.authorization.nextAttemptAt).toBe(T0 + 90 * DAY + HOUR);
    expect(effects).toContainEqual(
      expect.objectContaining({ type: 'outcome', outcome: expect.objectContaining({ action: 'expire' }) }),
    );
    const retried = transition(expired, { type: 'authorize-failed', failure: down }, T0 + 90 * DAY + HOUR).state;
    expect(retried.authorization.nextAttemptAt).toBe(T0 + 90 * DAY + 2 * HOUR);
  });

  it('does not count evaluation time while registered and never refunds it', () => {
    let state = run(fresh(), [[{ type: 'usage-set', tag: 'A', count: 1 }, T0]]);
    state = transition(state, { type: 'tick' }, T0 + DAY).state;
    expect(state.evaluation).toMatchObject({ usedMs: DAY, runningSince: T0 + DAY, startedAt: T0 });
    state = transition(state, { type: 'tick' }, T0 + HOUR).state;
    expect(state.evaluation.usedMs).toBe(DAY);
    state = transition(state, { type: 'tick' }, T0 + 2 * HOUR).state;
    expect(state.evaluation.usedMs).toBe(DAY + HOUR);
  });

  it('expires the evaluation period at the exact moment it is used up, and reports it once', () => {
    const started = run(fresh(), [[{ type: 'usage-set', tag: 'A', count: 1 }, T0]]);
    expect(nextWakeAt(started)).toBe(T0 + 60 * DAY); // the 30-days-remaining warning
    const { state, effects } = transition(started, { type: 'tick' }, T0 + 100 * DAY);
    expect(state.evaluation).toEqual({ usedMs: 90 * DAY, startedAt: T0, expiredAt: T0 + 90 * DAY });
    expect(effects.filter((e) => e.type === 'event').map((e) => e.type === 'event' && e.event.name)).toEqual([
      '%SMART_LIC-2-EVAL_EXPIRED',
    ]);
    expect(transition(state, { type: 'tick' }, T0 + 101 * DAY).effects).toEqual([]);
  });

  it('keeps a forced re-registration failure from touching the registration', () => {
    const state = registeredAt(T0);
    const after = run(state, [
      [{ type: 'register-requested', idToken: 'tok2', force: true }, T0 + DAY],
      [{ type: 'register-failed', failure: busy }, T0 + DAY],
    ]);
    expect(after.registration.status).toBe('REGISTERED');
    expect(after.registration.certificate).toEqual(state.registration.certificate);
    expect(after.registration.pending).toBeUndefined();
  });
});
