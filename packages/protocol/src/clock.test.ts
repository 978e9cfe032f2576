import { describe, expect, it } from 'vitest';
import { clockFromEnv, DAY, HOUR, ManualClock, parseDuration } from './clock.js';

describe('clock', () => {
  it('parses durations', () => {
    expect(parseDuration('91d')).toBe(91 * DAY);
    expect(parseDuration('-2h')).toBe(-2 * HOUR);
    expect(parseDuration('3600s')).toBe(HOUR);
    expect(parseDuration('250ms')).toBe(250);
    expect(() => parseDuration('soon')).toThrow(/not a duration/);
  });

  it('refuses simulated time without SMARTLIC_DEV_CLOCK=1', () => {
    expect(() => clockFromEnv({ SMARTLIC_CLOCK_OFFSET: '1d' })).toThrow(/SMARTLIC_DEV_CLOCK=1/);
    expect(() => clockFromEnv({ SMARTLIC_CLOCK_RATE: '10' })).toThrow(/SMARTLIC_DEV_CLOCK=1/);
  });

  it('offsets and speeds up the clock it is given', () => {
    const base = new ManualClock(1_000_000);
    const clock = clockFromEnv(
      { SMARTLIC_DEV_CLOCK: '1', SMARTLIC_CLOCK_OFFSET: '1d', SMARTLIC_CLOCK_RATE: '100' },
      base,
    );
    expect(clock.now()).toBe(1_000_000 + DAY);
    base.advance(1000);
    expect(clock.now()).toBe(1_000_000 + DAY + 100_000);
  });

  it('refuses a rate that is not a positive number', () => {
    expect(() => clockFromEnv({ SMARTLIC_DEV_CLOCK: '1', SMARTLIC_CLOCK_RATE: '0' })).toThrow(/positive/);
    expect(() => clockFromEnv({ SMARTLIC_DEV_CLOCK: '1', SMARTLIC_CLOCK_RATE: 'fast' })).toThrow(/positive/);
  });
});
