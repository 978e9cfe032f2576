import { type Clock, SECOND, SmartlicError, systemClock } from '@smartlic/protocol/core';
import { type AgentEvent, type AgentEventType, agentEvent } from '../events.js';

/** CUSP takes a snapshot of its call count every 30 s … */
export const CPS_SNAPSHOT_INTERVAL_MS = 30 * SECOND;
/** … and averages over a 5-minute window of 10 snapshots (seed 001). */
export const CPS_WINDOW_SNAPSHOTS = 10;

/** Options of `createCpsLimiter`. */
export interface CpsLimiterOptions {
  /** The licensed calls per second, or a function read at every snapshot (e.g. licensed count × 5). */
  licensedCps: number | (() => number);
  /** Default: the system clock. */
  clock?: Clock;
  /** Default: 30 s. */
  snapshotIntervalMs?: number;
  /** Snapshots in the averaging window. Default: 10 (5 minutes). */
  windowSnapshots?: number;
  /**
   * Take snapshots on an unref'd one-second timer that reads `clock` (default). With `false` the
   * host (or a test, with a manual clock) calls `update()` itself.
   */
  timer?: boolean;
  /** Receives `CPS_LIMIT_EXCEEDED`, `CPS_CALLS_REJECTED` and `CPS_LIMIT_CLEARED`; exceptions are swallowed. */
  onEvent?: (event: AgentEvent) => void;
}

/**
 * The CUSP calls-per-second limiter (SPEC §6). `tryCall()` counts every call offered; every 30 s
 * the count becomes a snapshot in a ring of 10, and while the window's average calls per second
 * exceeds the licensed rate, calls are rejected (the product answers SIP 503) until the average
 * falls back. Offered calls count, rejected or not: a load that stays too high stays rejected.
 *
 * `tryCall()` is the per-call check: two field updates and a branch, no clock read, no allocation.
 * Snapshots, the average and events happen in `update()`, off the call path.
 */
export class CpsLimiter {
  private readonly snapshots: Float64Array;
  private readonly clock: Clock;
  private readonly intervalMs: number;
  private readonly licensed: number | (() => number);
  private readonly onEvent: ((event: AgentEvent) => void) | undefined;
  private readonly timer: ReturnType<typeof setInterval> | undefined;
  private rejecting = false;
  private current = 0;
  private accepted = 0;
  private rejected = 0;
  private rejectedAtSnapshot = 0;
  private rejectedSinceExceeded = 0;
  private windowSum = 0;
  private next = 0;
  private filled = 0;
  private nextSnapshotAt: number;
  private average = 0;
  private lastLicensed = 0;

  constructor(options: CpsLimiterOptions) {
    const window = options.windowSnapshots ?? CPS_WINDOW_SNAPSHOTS;
    this.intervalMs = options.snapshotIntervalMs ?? CPS_SNAPSHOT_INTERVAL_MS;
    if (!Number.isInteger(window) || window < 1 || !(this.intervalMs > 0)) {
      throw new SmartlicError('BAD_REQUEST', {
        message: 'The CPS window needs at least one snapshot of a positive interval.',
      });
    }
    this.snapshots = new Float64Array(window);
    this.clock = options.clock ?? systemClock;
    this.licensed = options.licensedCps;
    this.onEvent = options.onEvent;
    this.lastLicensed = this.licensedNow();
    this.nextSnapshotAt = this.clock.now() + this.intervalMs;
    if (options.timer !== false) {
      this.timer = setInterval(() => this.update(), Math.min(SECOND, this.intervalMs));
      this.timer.unref();
    }
  }

  /** Counts one offered call; false means reject it (over the licensed rate). Allocates nothing. */
  tryCall(): boolean {
    this.current++;
    if (this.rejecting) {
      this.rejected++;
      return false;
    }
    this.accepted++;
    return true;
  }

  /** Takes the snapshots due by the clock (an idle stretch adds empty ones), then decides again. */
  update(): void {
    const now = this.clock.now();
    if (now < this.nextSnapshotAt) return;
    const due = Math.floor((now - this.nextSnapshotAt) / this.intervalMs) + 1;
    this.nextSnapshotAt += due * this.intervalMs;
    this.push(this.current);
    this.current = 0;
    for (let i = 1; i < Math.min(due, this.snapshots.length + 1); i++) this.push(0);
    this.decide(now);
  }

  /** Whether new calls are being rejected. */
  get isRejecting(): boolean {
    return this.rejecting;
  }

  /** The window's average calls per second at the last snapshot. */
  get averageCps(): number {
    return this.average;
  }

  /** The licensed calls per second at the last snapshot. */
  get licensedCps(): number {
    return this.lastLicensed;
  }

  /** Calls accepted and rejected since the limiter was created. */
  get counts(): { accepted: number; rejected: number } {
    return { accepted: this.accepted, rejected: this.rejected };
  }

  /** Stops the snapshot timer. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private push(count: number): void {
    this.windowSum += count - (this.snapshots[this.next] ?? 0);
    this.snapshots[this.next] = count;
    this.next = (this.next + 1) % this.snapshots.length;
    this.filled = Math.min(this.filled + 1, this.snapshots.length);
  }

  private decide(now: number): void {
    this.lastLicensed = this.licensedNow();
    this.average = this.windowSum / ((this.filled * this.intervalMs) / SECOND);
    const rejectedNow = this.rejected - this.rejectedAtSnapshot;
    this.rejectedAtSnapshot = this.rejected;
    this.rejectedSinceExceeded += rejectedNow;
    const rates = `the 5-minute average is ${this.average.toFixed(1)} calls/s, licensed ${this.lastLicensed} calls/s`;
    if (rejectedNow > 0)
      this.emit('CPS_CALLS_REJECTED', now, `${rejectedNow} calls rejected over the licensed rate; ${rates}`);
    const over = this.average > this.lastLicensed;
    if (over && !this.rejecting) {
      this.rejectedSinceExceeded = 0;
      this.emit(
        'CPS_LIMIT_EXCEEDED',
        now,
        `Calls per second above the licensed rate: ${rates}; new calls are rejected`,
      );
    } else if (!over && this.rejecting) {
      const total = this.rejectedSinceExceeded;
      this.emit(
        'CPS_LIMIT_CLEARED',
        now,
        `Calls per second within the licensed rate again: ${rates}; ${total} calls were rejected`,
      );
    }
    this.rejecting = over;
  }

  /** The licensed rate now; a function that throws keeps the previous rate (the host never sees it). */
  private licensedNow(): number {
    let value: number;
    try {
      value = typeof this.licensed === 'function' ? this.licensed() : this.licensed;
    } catch {
      return this.lastLicensed;
    }
    return Number.isFinite(value) && value > 0 ? value : 0;
  }

  private emit(type: AgentEventType, at: number, message: string): void {
    try {
      this.onEvent?.(agentEvent(type, at, message));
    } catch {
      // The host's handler must not break the limiter.
    }
  }
}

/** Creates a CPS limiter (see `CpsLimiter`). */
export function createCpsLimiter(options: CpsLimiterOptions): CpsLimiter {
  return new CpsLimiter(options);
}
