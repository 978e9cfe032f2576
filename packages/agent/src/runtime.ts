import type { Clock } from '@smartlic/protocol/core';
import { SmartlicError } from '@smartlic/protocol/core';
import {
  CLOCK_BACKWARDS_THRESHOLD_MS,
  type ClockMark,
  type ClockObservation,
  observeClock,
} from './core/agent-time.js';
import type { Effect } from './core/effects.js';
import type { Failure } from './core/failure.js';
import { type Input, transition } from './core/transition.js';
import type { DeviceKey } from './device-key.js';
import { type AgentEvent, agentEvent } from './events.js';
import { transportFailure } from './messaging/classify-failure.js';
import type { ExchangeSettings } from './messaging/exchange.js';
import { fetchRootCa } from './messaging/root-ca.js';
import type { Outcome } from './outcome.js';
import type { AgentState } from './state/agent-state.js';
import type { StateStore } from './state/state-store.js';
import { formatDate, formatDuration } from './time-format.js';
import { createTransport } from './transport/create-transport.js';

/** What the runtime is wired with. */
export interface RuntimeDeps {
  store: StateStore;
  clock: Clock;
  random: () => number;
  onEvent?: (event: AgentEvent) => void;
  requestTimeoutMs: number;
  /** Reads the state without ever writing it: another process may hold its lock. */
  readOnly?: boolean;
}

/**
 * The agent's I/O shell around the pure `transition`: holds the current state and device key,
 * applies inputs, emits their events, persists every change before an operation resolves, and
 * serialises operations so that only one runs at a time.
 */
export class AgentRuntime {
  private queue: Promise<unknown> = Promise.resolve();
  /** The latest clock reading of this process (the persisted one may be older). */
  private mark: ClockMark | undefined;

  constructor(
    readonly deps: RuntimeDeps,
    public state: AgentState,
    public key: DeviceKey,
  ) {}

  /** Reads the clock: agent time, never earlier than any time this state or process has seen. */
  private observe(): ClockObservation {
    const observation = observeClock([this.state.clock, this.mark], this.deps.clock.now());
    this.mark = observation.mark;
    return observation;
  }

  /**
   * Agent time now: the host's clock, except that it never goes back (SPEC §5, tampering).
   * Timers, deadlines and the evaluation clock run on it.
   */
  now(): number {
    return this.observe().now;
  }

  /** Agent time and the host's clock, read once. */
  readClock(): { now: number; wall: number } {
    const observed = this.observe();
    return { now: observed.now, wall: observed.mark.wallTime };
  }

  /** The host's clock as it is: what messages to the authority are stamped and checked with. */
  wallNow(): number {
    return this.deps.clock.now();
  }

  /** Runs `operation` after every earlier one, on the state as last saved by any process. */
  exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      await this.refresh();
      return operation();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Resolves once every operation started so far has ended. */
  async idle(): Promise<void> {
    await this.queue;
  }

  /**
   * Applies `input` at agent time now (with a fresh jitter draw), keeps the clock reading in the
   * state, saves the result if anything changed, then emits its events; returns its outcomes.
   * A wall clock found set backwards raises `%SMART_LIC-4-CLOCK_BACKWARDS` once.
   */
  async commit(input: Input): Promise<Outcome[]> {
    const observed = this.observe();
    const { state, effects } = transition(this.state, input, observed.now, this.deps.random());
    return this.adopt(state, effects, observed);
  }

  /**
   * Keeps a clock reading in the state without applying anything else: saved when agent time
   * advanced past the persisted mark or the wall clock was found set backwards (raising
   * `%SMART_LIC-4-CLOCK_BACKWARDS` once), so that a clock set back later is measured against
   * what a read-only look (`show`) saw. Returns the reading.
   */
  async recordClock(): Promise<{ now: number; wall: number }> {
    const observed = this.observe();
    const advanced = observed.now > this.state.clock.agentTime;
    if (advanced || observed.backwardsBy >= CLOCK_BACKWARDS_THRESHOLD_MS) {
      await this.adopt(structuredClone(this.state), [], observed);
    }
    return { now: observed.now, wall: observed.mark.wallTime };
  }

  /** Makes `state` (at the reading `observed`) current: keeps the reading, saves if anything changed, emits. */
  private async adopt(state: AgentState, effects: Effect[], observed: ClockObservation): Promise<Outcome[]> {
    const before = JSON.stringify(this.state);
    state.clock = observed.mark;
    if (observed.backwardsBy >= CLOCK_BACKWARDS_THRESHOLD_MS) {
      effects.unshift({ type: 'event', event: clockBackwardsEvent(observed) });
    }
    this.state = state;
    if (JSON.stringify(state) !== before) await this.save();
    return this.perform(effects);
  }

  /** Emits an event to the host; an exception in the host's handler is swallowed. */
  emit(event: AgentEvent): void {
    try {
      this.deps.onEvent?.(event);
    } catch {
      // The host's handler must not break the agent.
    }
  }

  /** How exchanges reach the authority right now. */
  exchangeSettings(): ExchangeSettings {
    return {
      ...(this.state.destination ? { destination: this.state.destination } : {}),
      anchors: this.state.trust.anchors,
      tlsTrustPoints: this.state.trust.tlsTrustPoints ?? [],
      timeoutMs: this.deps.requestTimeoutMs,
      now: () => this.wallNow(),
    };
  }

  /**
   * Trust on first use: with a destination but no trust anchor at all, fetch the authority's
   * root certificate and pin it. Returns why that failed, if it did.
   */
  async ensureTrust(): Promise<Failure | undefined> {
    const destination = this.state.destination;
    if (!destination || this.state.trust.anchors.length > 0) return undefined;
    try {
      const transport = createTransport(destination, {
        anchors: [],
        timeoutMs: this.deps.requestTimeoutMs,
        insecure: true,
      });
      const root = await fetchRootCa(transport);
      await this.commit({ type: 'trust-pinned', pem: root.pem, fingerprint: root.fingerprint });
      return undefined;
    } catch (error) {
      return transportFailure(error);
    }
  }

  /** Writes the state (next revision); a failure is reported as an event and thrown. */
  async save(): Promise<void> {
    if (this.deps.readOnly) throw new Error(`The device state in ${this.deps.store.dir} was opened read-only`);
    this.state = { ...this.state, revision: this.state.revision + 1 };
    try {
      await this.deps.store.save(this.state);
    } catch (cause) {
      const message = `The device state could not be saved in ${this.deps.store.dir}: ${(cause as Error).message}`;
      this.emit(agentEvent('CONFIG_NOT_SAVED', this.now(), message));
      throw new SmartlicError('INTERNAL', { message, cause });
    }
  }

  /** Adopts the state another process saved since this one last read or wrote it. */
  private async refresh(): Promise<void> {
    const loaded = await this.deps.store.load({ readOnly: this.deps.readOnly === true });
    if (loaded.state.revision === this.state.revision) return;
    this.state = loaded.state;
    this.key = loaded.key;
  }

  private perform(effects: Effect[]): Outcome[] {
    const outcomes: Outcome[] = [];
    for (const effect of effects) {
      if (effect.type === 'event') this.emit(effect.event);
      else outcomes.push(effect.outcome);
    }
    return outcomes;
  }
}

/** `%SMART_LIC-4-CLOCK_BACKWARDS`: the wall clock reads `backwardsBy` less than it did. */
function clockBackwardsEvent(observed: ClockObservation): AgentEvent {
  const to = observed.mark.wallTime;
  const from = to + observed.backwardsBy;
  const message =
    `The system clock was set back by ${formatDuration(from - to)} (from ${formatDate(from)} to ${formatDate(to)}); ` +
    `licensing time carries on from ${formatDate(observed.now)}: no evaluation time is given back and no deadline moves`;
  return agentEvent('CLOCK_BACKWARDS', observed.now, message);
}

/** The outcome of `action` among a transition's outcomes. */
export function outcomeOf(outcomes: Outcome[], action: Outcome['action']): Outcome {
  return outcomes.find((o) => o.action === action) ?? { action, ok: true, message: '' };
}
