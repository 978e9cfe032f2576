import type { Clock } from '@smartlic/protocol';
import { SmartlicError } from '@smartlic/protocol';
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
import { createTransport } from './transport/create-transport.js';

/** What the runtime is wired with. */
export interface RuntimeDeps {
  store: StateStore;
  clock: Clock;
  random: () => number;
  onEvent?: (event: AgentEvent) => void;
  requestTimeoutMs: number;
}

/**
 * The agent's I/O shell around the pure `transition`: holds the current state and device key,
 * applies inputs, emits their events, persists every change before an operation resolves, and
 * serialises operations so that only one runs at a time.
 */
export class AgentRuntime {
  private queue: Promise<unknown> = Promise.resolve();
  /** The latest time this process has read from the clock. */
  private highWater = Number.NEGATIVE_INFINITY;

  constructor(
    readonly deps: RuntimeDeps,
    public state: AgentState,
    public key: DeviceKey,
  ) {}

  /** Agent time now. */
  now(): number {
    const now = this.deps.clock.now();
    this.highWater = Math.max(this.highWater, now);
    return now;
  }

  /**
   * The state with time applied up to the latest time this process has seen. When the clock
   * was set backwards, this counts the evaluation time used up to that latest time first, so a
   * clock set back never refunds evaluation time (SPEC §5).
   */
  private caughtUp(now: number): { state: AgentState; effects: Effect[] } {
    if (this.highWater <= now) return { state: this.state, effects: [] };
    return transition(this.state, { type: 'tick' }, this.highWater);
  }

  /** The state to show at `now`: caught up with the latest time seen (read-only; nothing is saved). */
  view(now: number): AgentState {
    return this.caughtUp(now).state;
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

  /** Applies `input` at the current time and saves the result if anything changed; returns its outcomes. */
  async commit(input: Input): Promise<Outcome[]> {
    const before = JSON.stringify(this.state);
    const now = this.now();
    const caughtUp = this.caughtUp(now);
    const { state, effects } = transition(caughtUp.state, input, now);
    this.state = state;
    this.highWater = now;
    if (JSON.stringify(state) !== before) await this.save();
    return this.perform([...caughtUp.effects, ...effects]);
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
      timeoutMs: this.deps.requestTimeoutMs,
      now: () => this.now(),
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
    const loaded = await this.deps.store.load();
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

/** The outcome of `action` among a transition's outcomes. */
export function outcomeOf(outcomes: Outcome[], action: Outcome['action']): Outcome {
  return outcomes.find((o) => o.action === action) ?? { action, ok: true, message: '' };
}
