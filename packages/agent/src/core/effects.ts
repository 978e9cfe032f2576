import { type AgentEvent, type AgentEventType, agentEvent } from '../events.js';
import type { Outcome } from '../outcome.js';

/** What a transition asks the outside world to do: emit an event, report an outcome. */
export type Effect = { type: 'event'; event: AgentEvent } | { type: 'outcome'; outcome: Outcome };

/**
 * Collects the effects of one transition, all stamped with the transition's time, and carries
 * the transition's jitter draw (`u` in [0, 1), from the injected `random`) for the schedules it sets.
 */
export class Effects {
  readonly list: Effect[] = [];
  constructor(
    readonly now: number,
    readonly u = 0,
  ) {}

  /** Emits `type` with its human message. */
  event(type: AgentEventType, message: string): void {
    this.list.push({ type: 'event', event: agentEvent(type, this.now, message) });
  }

  /** Reports an outcome. */
  outcome(outcome: Outcome): void {
    this.list.push({ type: 'outcome', outcome });
  }
}
