import { SECOND } from '@smartlic/protocol/core';

/**
 * A reading of the clock, persisted in the state: the agent time and the wall-clock time it
 * was taken at. Agent time is what every timer, deadline and the evaluation clock run on.
 */
export interface ClockMark {
  /** Agent time at the reading (ms since the epoch); never decreases. */
  agentTime: number;
  /** What the host's clock said at that moment. */
  wallTime: number;
}

/** A wall clock this far behind a mark counts as set backwards (`%SMART_LIC-4-CLOCK_BACKWARDS`). */
export const CLOCK_BACKWARDS_THRESHOLD_MS = SECOND;

/** Agent time at wall time `wall`, seen from one mark. */
export function agentTimeAt(mark: ClockMark, wall: number): number {
  return wall >= mark.wallTime ? mark.agentTime + (wall - mark.wallTime) : mark.agentTime;
}

/** What one look at the clock gives. */
export interface ClockObservation {
  /** Agent time now: never earlier than any mark. */
  now: number;
  /** The mark to keep: `now` at wall time `wall`. */
  mark: ClockMark;
  /** How far the wall clock is behind the latest mark (0 when it is not). */
  backwardsBy: number;
}

/**
 * Turns a wall-clock reading into agent time. Agent time advances with the wall clock, but when
 * the wall clock is behind a mark (it was set backwards) agent time carries on from the mark
 * instead of going back. So a clock set backwards never gives evaluation time back and never
 * postpones a deadline; the cost is that agent time then runs ahead of the wall clock by the
 * size of the step, also after the clock is corrected (time elapsed and a correction cannot be
 * told apart). Several marks (the persisted one, the process's own) are combined: the latest wins.
 */
export function observeClock(marks: readonly (ClockMark | undefined)[], wall: number): ClockObservation {
  let now = wall;
  let backwardsBy = 0;
  for (const mark of marks) {
    if (!mark) continue;
    now = Math.max(now, agentTimeAt(mark, wall));
    backwardsBy = Math.max(backwardsBy, mark.wallTime - wall);
  }
  return { now, mark: { agentTime: now, wallTime: wall }, backwardsBy };
}
