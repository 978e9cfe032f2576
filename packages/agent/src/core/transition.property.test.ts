import {
  type AuthorizeResponse,
  DAY,
  HOUR,
  MINUTE,
  type RegisterResponse,
  type RenewIdResponse,
} from '@smartlic/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AgentState, initialState } from '../state/agent-state.js';
import { decodeState, encodeState } from '../state/state-codec.js';
import { observeClock } from './agent-time.js';
import { evaluationRemaining } from './evaluation.js';
import type { Failure } from './failure.js';
import { type DueAction, nextDueAction, nextWakeAt } from './scheduler.js';
import { stateProblems } from './state-table.js';
import { type Input, transition } from './transition.js';

/**
 * A model of the agent's shell driving the pure core: a wall clock that moves forwards (and
 * sometimes back), the host's commands, and an authority whose answers are drawn at random.
 * After every command the shell runs what is due, as `runDue` does, and the invariants are checked.
 */

type Answer = 'ok' | 'ooc' | 'busy' | 'down' | 'refused' | 'rejected' | 'lost';

type Command =
  | { kind: 'wait'; ms: number }
  | { kind: 'set-back'; ms: number }
  | { kind: 'use'; tag: 'A' | 'B'; count: number }
  | { kind: 'register'; force: boolean }
  | { kind: 'renew-auth' }
  | { kind: 'renew-id' }
  | { kind: 'deregister'; reachable: boolean };

interface Step {
  command: Command;
  /** The authority's answers to the exchanges this step sets off, in order. */
  answers: Answer[];
  /** Jitter draw of the step's transitions. */
  u: number;
}

const T0 = Date.UTC(2026, 0, 1);
const down: Failure = { reason: 'down', code: 'SEND_FAILED', retryable: true, transport: true };
const busy: Failure = { reason: 'busy', code: 'SERVER_BUSY', retryable: true, transport: false };
const refused: Failure = {
  reason: 'Product Already Registered',
  code: 'ALREADY_REGISTERED',
  retryable: false,
  transport: false,
};

/** The authority no longer recognises the device's certificates (seed 003 #6): `identity-rejected`. */
const rejected: Failure = {
  reason:
    'Missing ID Cert Serial Number Field; Missing Signing Cert Serial Number Field; Signed Data and Certificate do not match',
  code: 'MISSING_SERIALS',
  retryable: false,
  transport: false,
};

const duration = fc.oneof(
  fc.integer({ min: 0, max: 2 * HOUR }),
  fc.integer({ min: 0, max: 3 * DAY }),
  fc.integer({ min: 0, max: 200 * DAY }),
  fc.integer({ min: 300 * DAY, max: 400 * DAY }),
);
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: duration.map((ms) => ({ kind: 'wait' as const, ms })) },
  { weight: 1, arbitrary: duration.map((ms) => ({ kind: 'set-back' as const, ms })) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('use' as const),
      tag: fc.constantFrom('A' as const, 'B' as const),
      count: fc.integer({ min: 0, max: 3 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('register' as const), force: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'renew-auth' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'renew-id' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deregister' as const), reachable: fc.boolean() }) },
);
const step: fc.Arbitrary<Step> = fc.record({
  command,
  answers: fc.array(fc.constantFrom<Answer>('ok', 'ok', 'ooc', 'busy', 'down', 'refused', 'rejected', 'lost'), {
    maxLength: 6,
  }),
  u: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
});

/** The simulated device: its state and the host's wall clock. */
class Shell {
  state = initialState({ pid: 'P', sn: 'S', softwareTag: 't', profile: 'catalyst' }, 'fp', T0);
  wall = T0;
  agentNow = T0;
  private serial = 0;
  private answers: Answer[] = [];
  private u = 0;

  /** Applies `input` at agent time now, as `AgentRuntime.commit` does. */
  private commit(input: Input): void {
    const observed = observeClock([this.state.clock], this.wall);
    this.agentNow = observed.now;
    const { state } = transition(this.state, input, observed.now, this.u);
    state.clock = observed.mark;
    this.state = state;
  }

  private answer(): Answer {
    return this.answers.shift() ?? 'down';
  }

  run({ command, answers, u }: Step): void {
    this.answers = [...answers];
    this.u = u;
    switch (command.kind) {
      case 'wait':
        this.wall += command.ms;
        this.commit({ type: 'tick' });
        break;
      case 'set-back':
        this.wall -= command.ms;
        this.commit({ type: 'tick' });
        break;
      case 'use':
        this.commit({ type: 'usage-set', tag: command.tag, count: command.count });
        break;
      case 'register':
        if (this.state.registration.certificate && !command.force) break;
        this.commit({ type: 'register-requested', idToken: 'token', force: command.force });
        this.exchange('register');
        break;
      case 'renew-auth':
        if (this.state.registration.certificate) this.exchange('authorize');
        break;
      case 'renew-id':
        if (this.state.registration.certificate) this.exchange('renew-id');
        break;
      case 'deregister':
        this.commit({
          type: 'deregistered',
          deviceKeyFingerprint: 'fp',
          ...(command.reachable ? {} : { failure: down }),
        });
        break;
    }
    this.runDue();
  }

  /** What `runDue` does: each due exchange once (a lost answer leaves it due for the next round). */
  private runDue(): void {
    this.commit({ type: 'tick' });
    const done = new Set<DueAction>();
    for (let round = 0; round < 8; round++) {
      const action = nextDueAction(this.state, this.agentNow, done);
      if (!action) return;
      if (this.exchange(action)) done.add(action);
    }
    // Rounds used up by lost answers: the next ones get no answer at all.
    for (
      let action = nextDueAction(this.state, this.agentNow, done);
      action;
      action = nextDueAction(this.state, this.agentNow, done)
    ) {
      this.answers = [];
      this.exchange(action);
      done.add(action);
    }
  }

  /** One exchange with the authority; false when its answer was lost (a crash before it came back). */
  private exchange(action: DueAction): boolean {
    const answer = this.answer();
    if (action === 'register') {
      this.commit({ type: 'register-sent' });
      if (answer === 'lost') return false;
      if (answer === 'ok' || answer === 'ooc')
        this.commit({ type: 'register-succeeded', response: this.registerResponse() });
      else
        this.commit({
          type: 'register-failed',
          failure: answer === 'refused' ? refused : answer === 'busy' ? busy : down,
        });
      if (answer === 'ok' || answer === 'ooc') this.exchange('authorize');
      return true;
    }
    if (action === 'authorize') {
      this.commit({ type: 'authorize-sent' });
      if (answer === 'lost') return false;
      if (answer === 'ok' || answer === 'ooc') {
        const requested = structuredClone(this.state.usage);
        this.commit({ type: 'authorize-succeeded', response: this.authorizeResponse(answer, requested), requested });
      } else if (answer === 'rejected')
        this.commit({ type: 'identity-rejected', action: 'authorize', failure: rejected });
      else this.commit({ type: 'authorize-failed', failure: answer === 'busy' ? busy : down });
      return true;
    }
    if (answer === 'lost') return false;
    if (answer === 'ok' || answer === 'ooc') {
      this.commit({ type: 'renew-id-succeeded', response: this.renewIdResponse(), deviceKeyFingerprint: 'fp' });
    } else if (answer === 'rejected') this.commit({ type: 'identity-rejected', action: 'renew-id', failure: rejected });
    else this.commit({ type: 'renew-id-failed', failure: answer === 'busy' ? busy : down });
    return true;
  }

  private registerResponse(): RegisterResponse {
    return {
      ...this.certificate(),
      type: 'register-response',
      smartAccount: { id: 'sa', name: 'SA', domain: 'example.com' },
      virtualAccount: { id: 'va', name: 'VA' },
      exportControlled: false,
    };
  }

  private renewIdResponse(): RenewIdResponse {
    return { ...this.certificate(), type: 'renew-id-response' };
  }

  private certificate() {
    this.serial += 1;
    return {
      version: 1 as const,
      timestamp: this.wall,
      nonce: 'n'.repeat(22),
      instanceId: '6f1c2f4e-8d0a-4d8e-9a55-2b1c3d4e5f60',
      idCertificate: '-----BEGIN CERTIFICATE-----',
      idCertSerial: `s${this.serial}`,
      idCertExpiresAt: this.wall + 360 * DAY,
      renewIntervalMs: 180 * DAY,
      signingCertificate: '-----BEGIN CERTIFICATE-----',
      signingCertSerial: 'cd',
    };
  }

  private authorizeResponse(answer: 'ok' | 'ooc', requested: { tag: string; count: number }[]): AuthorizeResponse {
    const status = answer === 'ok' ? 'InCompliance' : 'OutOfCompliance';
    return {
      type: 'authorize-response',
      version: 1,
      timestamp: this.wall,
      nonce: 'n'.repeat(22),
      instanceId: '6f1c2f4e-8d0a-4d8e-9a55-2b1c3d4e5f60',
      status,
      entitlements: requested.map((u) => ({ tag: u.tag, requested: u.count, status })),
      authorizedAt: this.wall,
      expiresAt: this.wall + 90 * DAY,
      renewIntervalMs: 30 * DAY,
      retryIntervalMs: status === 'InCompliance' ? 23 * HOUR : 15 * MINUTE,
    };
  }
}

const MAC_KEY = Buffer.alloc(32, 7);

describe('the state machine under random event sequences (fast-check)', () => {
  it('never gives evaluation time back, reaches only states of the table, and schedules only the future', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), (steps) => {
        const shell = new Shell();
        let remaining = evaluationRemaining(shell.state.evaluation, shell.agentNow);
        let agentNow = shell.agentNow;
        for (const s of steps) {
          shell.run(s);
          const now = shell.agentNow;
          expect(now).toBeGreaterThanOrEqual(agentNow);
          agentNow = now;
          const left = evaluationRemaining(shell.state.evaluation, now);
          expect(left).toBeLessThanOrEqual(remaining);
          remaining = left;
          expect(stateProblems(shell.state, now)).toEqual([]);
          const wake = nextWakeAt(shell.state);
          if (wake !== undefined) expect(wake).toBeGreaterThan(now);
          expect(decodeState(encodeState(shell.state, MAC_KEY), 'state.json').state).toEqual(shell.state);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('never lets a clock set backwards move a deadline or refund evaluation time', () => {
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 1, maxLength: 25 }),
        fc.integer({ min: 1, max: 400 * DAY }),
        (steps, back) => {
          const shell = new Shell();
          for (const s of steps) shell.run(s);
          const before = structuredClone(shell.state) as AgentState;
          const remaining = evaluationRemaining(before.evaluation, shell.agentNow);
          shell.run({ command: { kind: 'set-back', ms: back }, answers: [], u: 0 });
          const after = shell.state;
          expect(evaluationRemaining(after.evaluation, shell.agentNow)).toBeLessThanOrEqual(remaining);
          const deadline = (s: AgentState) =>
            s.authorization.expiredAt === undefined ? s.authorization.grant?.expiresAt : undefined;
          if (deadline(after) !== undefined)
            expect(deadline(after)).toBeLessThanOrEqual(deadline(before) ?? Number.POSITIVE_INFINITY);
          if (after.registration.certificate) {
            expect(after.registration.certificate.expiresAt).toBe(before.registration.certificate?.expiresAt);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
