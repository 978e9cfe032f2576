/** A source of the current time in milliseconds since the epoch. Injected everywhere. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** The machine's wall clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock that tests move by hand. */
export class ManualClock implements Clock {
  /** Starts at `current` (default: 2026-01-01T00:00:00Z). */
  constructor(private current = Date.UTC(2026, 0, 1)) {}
  /** The time it was set to. */
  now(): number {
    return this.current;
  }
  /** Sets the time (it may go backwards: that is how tests set a clock back). */
  set(ms: number): void {
    this.current = ms;
  }
  /** Moves the time forward by `ms`. */
  advance(ms: number): void {
    this.current += ms;
  }
}

/** One second in milliseconds: time in smartlic is milliseconds since the epoch. */
export const SECOND = 1000;
/** One minute in milliseconds. */
export const MINUTE = 60 * SECOND;
/** One hour in milliseconds. */
export const HOUR = 60 * MINUTE;
/** One day in milliseconds (24 h: agent time knows no daylight saving). */
export const DAY = 24 * HOUR;

const UNITS: Record<string, number> = { ms: 1, s: SECOND, m: MINUTE, h: HOUR, d: DAY, w: 7 * DAY };

/** Parses a duration such as `91d`, `-2h`, `3600s`, `1.5h`, `250ms` (a bare number is milliseconds). */
export function parseDuration(text: string): number {
  const match = /^\s*([+-]?\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$/.exec(text);
  if (!match) throw new RangeError(`"${text}" is not a duration (examples: 91d, -2h, 3600s, 250ms)`);
  return Math.round(Number(match[1]) * (UNITS[match[2] ?? 'ms'] ?? 1));
}

/** A clock shifted by a fixed offset and, optionally, running `rate` times faster from `start`. */
export function offsetClock(base: Clock, offsetMs: number, rate = 1): Clock {
  const startReal = base.now();
  return { now: () => startReal + offsetMs + Math.round((base.now() - startReal) * rate) };
}

/**
 * Builds the clock of a process from its environment (SPEC §9, simulated time):
 * `SMARTLIC_DEV_CLOCK=1` enables `SMARTLIC_CLOCK_OFFSET` and `SMARTLIC_CLOCK_RATE`; either
 * variable without it is refused.
 */
export function clockFromEnv(env: Record<string, string | undefined>, base: Clock = systemClock): Clock {
  const offset = env.SMARTLIC_CLOCK_OFFSET;
  const rate = env.SMARTLIC_CLOCK_RATE;
  if (env.SMARTLIC_DEV_CLOCK !== '1') {
    if (offset !== undefined || rate !== undefined) {
      throw new RangeError('SMARTLIC_CLOCK_OFFSET and SMARTLIC_CLOCK_RATE are honoured only with SMARTLIC_DEV_CLOCK=1');
    }
    return base;
  }
  const offsetMs = offset ? parseDuration(offset) : 0;
  const rateValue = rate ? Number(rate) : 1;
  if (!Number.isFinite(rateValue) || rateValue <= 0)
    throw new RangeError(`SMARTLIC_CLOCK_RATE must be a positive number, not "${rate}"`);
  return offsetClock(base, offsetMs, rateValue);
}
