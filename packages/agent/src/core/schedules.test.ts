import { DAY, HOUR, MINUTE } from '@smartlic/protocol';
import { describe, expect, it } from 'vitest';
import {
  authorizedState,
  authorizeResponse,
  freshState,
  registeredState,
  registerResponse,
  runInputs,
  T0,
} from '../testing/core-fixtures.js';
import { observeClock } from './agent-time.js';
import type { Failure } from './failure.js';
import { afterRetryAfter, JITTER_CAP_MS, jittered, jitterMs } from './retry.js';
import { nextDueAction, nextWakeAt } from './scheduler.js';
import { transition } from './transition.js';

const down: Failure = { reason: 'down', code: 'SEND_FAILED', retryable: true, transport: true };
const fresh = freshState;
const run = runInputs;
const registered = registeredState;
const authorized = authorizedState;

/** A small seeded PRNG (mulberry32), so the fleet test is the same on every run. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('schedules', () => {
  it('adds jitter only later, at most 10 % of the interval and a day, never past a deadline', () => {
    expect(jitterMs(HOUR, 0)).toBe(0);
    expect(jitterMs(HOUR, 0.999_999)).toBe(6 * MINUTE - 1);
    expect(jitterMs(30 * DAY, 0.999_999)).toBeLessThan(JITTER_CAP_MS);
    expect(jitterMs(30 * DAY, 0.5)).toBe(JITTER_CAP_MS / 2);
    expect(jitterMs(HOUR, Number.NaN)).toBe(0);
    expect(jittered(T0, 30 * DAY, 0.9, T0 + HOUR)).toBe(T0 + HOUR);
    expect(jittered(T0, 30 * DAY, 0.9, T0 - HOUR)).toBe(T0);
  });

  it('spreads a fleet that registered and authorized at the same instant over the jitter window', () => {
    const random = seeded(42);
    const renewals = Array.from({ length: 200 }, () => authorized(T0, 'InCompliance', 23 * HOUR, random()));
    const auth = renewals.map((s) => s.authorization.nextAttemptAt ?? Number.NaN);
    const id = renewals.map((s) => s.registration.nextRenewalAt ?? Number.NaN);
    for (const at of auth) expect(at - (T0 + 30 * DAY)).toBeGreaterThanOrEqual(0);
    for (const at of auth) expect(at - (T0 + 30 * DAY)).toBeLessThan(DAY);
    for (const at of id) expect(at - (T0 + 180 * DAY)).toBeGreaterThanOrEqual(0);
    for (const at of id) expect(at - (T0 + 180 * DAY)).toBeLessThan(DAY);
    expect(new Set(auth).size).toBeGreaterThan(195);
    // No hour of the day-long window gets more than a few times its fair share (200 / 24 ≈ 8).
    const perHour = new Map<number, number>();
    for (const at of auth)
      perHour.set(Math.floor((at - T0) / HOUR), (perHour.get(Math.floor((at - T0) / HOUR)) ?? 0) + 1);
    expect(perHour.size).toBeGreaterThan(20);
    expect(Math.max(...perHour.values())).toBeLessThan(25);
    // Failures of the whole fleet at one instant are retried spread over 10 % of the interval.
    const retries = renewals.map(
      (s, i) => transition(s, { type: 'authorize-failed', failure: down }, T0 + 30 * DAY, i / 200).state,
    );
    const times = retries.map((s) => (s.authorization.nextAttemptAt ?? 0) - (T0 + 30 * DAY + 23 * HOUR));
    expect(Math.min(...times)).toBe(0);
    expect(Math.max(...times)).toBeGreaterThan(2 * HOUR);
    expect(Math.max(...times)).toBeLessThan(2.3 * HOUR);
  });

  it('schedules the first authorization as due at registration, so a crash before it cannot lose it', () => {
    const state = registered(T0);
    expect(state.authorization.nextAttemptAt).toBe(T0);
    expect(nextDueAction(state, T0)).toBe('authorize');
    const used = transition(
      authorized(T0, 'InCompliance', 23 * HOUR),
      { type: 'usage-set', tag: 'A', count: 2 },
      T0 + DAY,
    ).state;
    expect(nextDueAction(used, T0 + DAY)).toBe('authorize');
  });

  it('asks again while OUT OF COMPLIANCE: every 15 minutes for 2 hours, then every 4 hours', () => {
    let state = authorized(T0, 'OutOfCompliance', 15 * MINUTE);
    const gaps: number[] = [];
    let at = T0;
    for (let i = 0; i < 11; i++) {
      const next = state.authorization.nextAttemptAt ?? 0;
      gaps.push((next - at) / MINUTE);
      at = next;
      const response = authorizeResponse(at, 'OutOfCompliance', 15 * MINUTE);
      state = transition(
        state,
        { type: 'authorize-succeeded', response, requested: [{ tag: 'A', count: 1 }] },
        at,
      ).state;
    }
    expect(gaps).toEqual([15, 15, 15, 15, 15, 15, 15, 15, 240, 240, 240]);
    const back = authorizeResponse(at, 'InCompliance', 23 * HOUR);
    state = transition(
      state,
      { type: 'authorize-succeeded', response: back, requested: [{ tag: 'A', count: 1 }] },
      at,
    ).state;
    expect(state.authorization.nextAttemptAt).toBe(at + 30 * DAY);
  });

  it('takes a longer OUT OF COMPLIANCE retry interval from the authority (CUSP sends 12 hours)', () => {
    const state = authorized(T0, 'OutOfCompliance', 12 * HOUR);
    expect(state.authorization.nextAttemptAt).toBe(T0 + 15 * MINUTE);
    const late = transition(state, { type: 'authorize-failed', failure: down }, T0 + 3 * HOUR).state;
    const later = transition(late, { type: 'authorize-failed', failure: down }, T0 + 6 * HOUR).state;
    expect(later.authorization.nextAttemptAt).toBe(T0 + 18 * HOUR);
  });

  it('retries a failed ID renewal hourly, and not at or after the certificate expires', () => {
    let state = run(fresh(), [
      [{ type: 'register-requested', idToken: 'tok', force: false }, T0],
      [{ type: 'register-succeeded', response: registerResponse(T0) }, T0],
    ]);
    expect(state.registration.nextRenewalAt).toBe(T0 + 180 * DAY);
    state = transition(state, { type: 'renew-id-failed', failure: down }, T0 + 360 * DAY - 2 * HOUR).state;
    expect(state.registration.nextRenewalAt).toBe(T0 + 360 * DAY - HOUR);
    state = transition(state, { type: 'renew-id-failed', failure: down }, T0 + 360 * DAY - HOUR).state;
    expect(state.registration.nextRenewalAt).toBeUndefined();
    expect(nextWakeAt(state)).toBe(T0 + 360 * DAY);
    const jittered = transition(
      registered(T0),
      { type: 'renew-id-failed', failure: down },
      T0 + 360 * DAY - HOUR - MINUTE,
      0.99,
    ).state;
    expect(jittered.registration.nextRenewalAt).toBe(T0 + 360 * DAY - 1);
  });

  it('sends the next registration attempt with force when the last one got no answer', () => {
    let state = run(fresh(), [
      [{ type: 'register-requested', idToken: 'tok', force: false }, T0],
      [{ type: 'register-sent' }, T0],
    ]);
    expect(state.registration.pending).toMatchObject({ maybeDelivered: true, force: false });
    state = transition(state, { type: 'register-failed', failure: down }, T0).state;
    expect(state.registration).toMatchObject({ status: 'REGISTERING', pending: { maybeDelivered: true } });
    const busy: Failure = { reason: 'busy', code: 'SERVER_BUSY', retryable: true, transport: false };
    state = transition(state, { type: 'register-failed', failure: busy }, T0 + 15 * MINUTE).state;
    expect(state.registration.pending?.maybeDelivered).toBeUndefined();
  });

  it('waits at least the Retry-After of a 429, plus a jitter over at least a minute, never past a deadline', () => {
    expect(afterRetryAfter(T0, 30_000, 0)).toBe(T0 + 30_000);
    expect(afterRetryAfter(T0, 30_000, 0.5)).toBe(T0 + 30_000 + 30_000);
    expect(afterRetryAfter(T0, 10 * MINUTE, 0.5)).toBe(T0 + 15 * MINUTE);
    expect(afterRetryAfter(T0, 10 * DAY, 0.999_999)).toBeLessThan(T0 + 11 * DAY);
    expect(afterRetryAfter(T0, 30_000, Number.NaN)).toBe(T0 + 30_000);
    expect(afterRetryAfter(T0, 30_000, 0.9, T0 + 40_000)).toBe(T0 + 40_000);
    // A deadline before the wait is over does not make the attempt earlier than the authority allows.
    expect(afterRetryAfter(T0, 30_000, 0.9, T0 + 10_000)).toBe(T0 + 30_000);
  });

  it('schedules the next registration, authorization and ID renewal after a 429 by its Retry-After', () => {
    const limited: Failure = {
      reason: 'Too many requests from this client: wait 42 seconds, then try again.',
      code: 'RATE_LIMITED',
      retryable: true,
      transport: false,
      retryAfterMs: 42_000,
    };
    const pending = run(fresh(), [[{ type: 'register-requested', idToken: 'tok', force: false }, T0]]);
    const reg = transition(pending, { type: 'register-failed', failure: limited }, T0, 0.5).state.registration;
    expect(reg).toMatchObject({ status: 'REGISTERING', failure: { reason: limited.reason, code: 'RATE_LIMITED' } });
    // 42 s, then half of a minute of spread (not the 15-minute registration retry).
    expect(reg.pending?.nextAttemptAt).toBe(T0 + 42_000 + 30_000);
    // Every draw keeps the attempt at or after the wait; the fleet spreads over the window.
    const draws = Array.from({ length: 100 }, (_, i) => i / 100);
    const times = draws.map(
      (u) => transition(pending, { type: 'register-failed', failure: limited }, T0, u).state.registration.pending,
    );
    for (const p of times) expect(p?.nextAttemptAt ?? 0).toBeGreaterThanOrEqual(T0 + 42_000);
    for (const p of times) expect(p?.nextAttemptAt ?? Infinity).toBeLessThan(T0 + 42_000 + MINUTE);
    expect(new Set(times.map((p) => p?.nextAttemptAt)).size).toBe(100);

    const auth = transition(
      authorized(T0, 'InCompliance', 23 * HOUR),
      { type: 'authorize-failed', failure: limited },
      T0 + 30 * DAY,
    ).state.authorization;
    expect(auth.nextAttemptAt).toBe(T0 + 30 * DAY + 42_000);
    expect(auth.failure).toMatchObject({ reason: limited.reason, code: 'RATE_LIMITED' });

    const renew = transition(registered(T0), { type: 'renew-id-failed', failure: limited }, T0 + 180 * DAY).state;
    expect(renew.registration.nextRenewalAt).toBe(T0 + 180 * DAY + 42_000);
    // Not when the wait would end after the certificate expired.
    const late = transition(registered(T0), { type: 'renew-id-failed', failure: limited }, T0 + 360 * DAY - 1000).state;
    expect(late.registration.nextRenewalAt).toBeUndefined();
  });

  it('gives each evaluation expiry warning once; a device that slept through several gets one', () => {
    let state = run(fresh(), [[{ type: 'usage-set', tag: 'A', count: 1 }, T0]]);
    const warnings = (at: number) => {
      const { state: next, effects } = transition(state, { type: 'tick' }, at);
      state = next;
      return effects.flatMap((e) => (e.type === 'event' ? [e.event.type] : []));
    };
    expect(nextWakeAt(state)).toBe(T0 + 60 * DAY);
    expect(warnings(T0 + 60 * DAY - 1)).toEqual([]);
    expect(warnings(T0 + 60 * DAY)).toEqual(['EVAL_WILL_EXPIRE_WARNING']);
    expect(warnings(T0 + 70 * DAY)).toEqual([]);
    expect(nextWakeAt(state)).toBe(T0 + 75 * DAY);
    expect(warnings(T0 + 89 * DAY + HOUR)).toEqual(['EVAL_WILL_EXPIRE_WARNING']);
    expect(state.evaluation.warnedDays).toBe(1);
    expect(warnings(T0 + 90 * DAY)).toEqual(['EVAL_EXPIRED']);
  });

  it('keeps agent time going forwards when the wall clock goes back', () => {
    const first = observeClock([undefined], T0);
    expect(first).toEqual({ now: T0, mark: { agentTime: T0, wallTime: T0 }, backwardsBy: 0 });
    const back = observeClock([first.mark], T0 - 5 * DAY);
    expect(back).toMatchObject({ now: T0, backwardsBy: 5 * DAY });
    const later = observeClock([back.mark], T0 - 5 * DAY + HOUR);
    expect(later).toMatchObject({ now: T0 + HOUR, backwardsBy: 0 });
  });
});
