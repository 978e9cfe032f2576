import { ManualClock, SECOND } from '@smartlic/protocol';
import { describe, expect, it } from 'vitest';
import type { AgentEvent } from '../events.js';
import { createCpsLimiter } from './cps-limiter.js';

/** Offers `cps` calls per second for `seconds`, snapshotting as the clock passes; returns the calls accepted. */
function offer(
  limiter: ReturnType<typeof createCpsLimiter>,
  clock: ManualClock,
  cps: number,
  seconds: number,
): { accepted: number; rejected: number } {
  let accepted = 0;
  let rejected = 0;
  for (let s = 0; s < seconds; s++) {
    for (let c = 0; c < cps; c++) {
      if (limiter.tryCall()) accepted++;
      else rejected++;
    }
    clock.advance(SECOND);
    limiter.update();
  }
  return { accepted, rejected };
}

function setup(licensedCps: number | (() => number) = 10) {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const events: AgentEvent[] = [];
  const limiter = createCpsLimiter({ licensedCps, clock, timer: false, onEvent: (e) => events.push(e) });
  return { clock, events, limiter };
}

describe('the CPS limiter (30-s snapshots, 5-minute window)', () => {
  it('accepts calls within the licensed rate', () => {
    const { clock, limiter, events } = setup(10);
    expect(offer(limiter, clock, 10, 600)).toEqual({ accepted: 6000, rejected: 0 });
    expect(limiter.averageCps).toBe(10);
    expect(limiter.isRejecting).toBe(false);
    expect(events).toEqual([]);
  });

  it('decides only at snapshots: a burst is accepted until the next 30-s snapshot, then rejected', () => {
    const { clock, limiter, events } = setup(10);
    expect(offer(limiter, clock, 20, 29)).toEqual({ accepted: 580, rejected: 0 });
    expect(offer(limiter, clock, 20, 1)).toEqual({ accepted: 20, rejected: 0 });
    expect(limiter.isRejecting).toBe(true);
    expect(limiter.averageCps).toBe(20);
    expect(limiter.tryCall()).toBe(false);
    expect(events.map((e) => e.name)).toEqual(['%SMART_LIC-4-CPS_LIMIT_EXCEEDED']);
    expect(events[0]?.message).toBe(
      'Calls per second above the licensed rate: the 5-minute average is 20.0 calls/s, licensed 10 calls/s; new calls are rejected',
    );
  });

  it('keeps rejecting while the offered load stays high, and recovers once the window average falls', () => {
    const { clock, limiter, events } = setup(10);
    offer(limiter, clock, 30, 30);
    expect(limiter.isRejecting).toBe(true);
    // 4.5 more minutes at 30 calls/s: offered calls count, so the average stays above 10.
    expect(offer(limiter, clock, 30, 270).accepted).toBe(0);
    expect(limiter.isRejecting).toBe(true);
    // Quiet: the average of the window falls as quiet snapshots replace busy ones.
    // 10 snapshots of 900 calls; the average falls to ≤ 10/s once at least 7 are quiet (3 × 900 / 300 s = 9).
    offer(limiter, clock, 0, 180);
    expect(limiter.isRejecting).toBe(true);
    offer(limiter, clock, 0, 30);
    expect(limiter.isRejecting).toBe(false);
    expect(limiter.averageCps).toBe(9);
    expect(limiter.tryCall()).toBe(true);
    const cleared = events.find((e) => e.type === 'CPS_LIMIT_CLEARED');
    expect(cleared?.message).toBe(
      'Calls per second within the licensed rate again: the 5-minute average is 9.0 calls/s, licensed 10 calls/s; 8100 calls were rejected',
    );
    const rejectedLog = events.filter((e) => e.type === 'CPS_CALLS_REJECTED');
    expect(rejectedLog).toHaveLength(9);
    expect(rejectedLog[0]?.message).toMatch(
      /^900 calls rejected over the licensed rate; the 5-minute average is 30\.0/,
    );
    expect(limiter.counts).toEqual({ accepted: 901, rejected: 8100 });
  });

  it('counts an idle stretch as empty snapshots, and reads a licensed rate that changes', () => {
    let licensed = 10;
    const { clock, limiter } = setup(() => licensed);
    offer(limiter, clock, 15, 30);
    expect(limiter.isRejecting).toBe(true);
    clock.advance(10 * 60 * SECOND);
    limiter.update();
    expect(limiter.averageCps).toBe(0);
    expect(limiter.isRejecting).toBe(false);
    licensed = 20;
    offer(limiter, clock, 15, 30);
    expect(limiter.licensedCps).toBe(20);
    expect(limiter.isRejecting).toBe(false);
  });

  it('rejects every call with no licensed rate, and survives a licensed-rate function that throws', () => {
    let fail = false;
    const { clock, limiter } = setup(() => {
      if (fail) throw new Error('host bug');
      return 0;
    });
    offer(limiter, clock, 1, 30);
    expect(limiter.isRejecting).toBe(true);
    fail = true;
    expect(() => offer(limiter, clock, 1, 30)).not.toThrow();
    expect(limiter.licensedCps).toBe(0);
  });

  it('refuses a window of no snapshots', () => {
    expect(() => createCpsLimiter({ licensedCps: 1, windowSnapshots: 0, timer: false })).toThrow(
      /at least one snapshot/,
    );
  });
});
