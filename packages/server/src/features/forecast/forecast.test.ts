import { describe, expect, it } from 'vitest';
import { dayNumber, dayOfNumber, shortageDay, type UsagePoint, usageTrend } from './forecast.js';

/** Snapshots of `n` consecutive days ending on 2027-03-30, in use from `inUse(i)`. */
function days(n: number, inUse: (i: number) => number, quantity = 10): UsagePoint[] {
  const last = dayNumber('2027-03-30');
  return Array.from({ length: n }, (_, i) => ({ day: dayOfNumber(last - (n - 1) + i), quantity, inUse: inUse(i) }));
}

describe('compliance forecast', () => {
  it('finds no shortage when use is flat', () => {
    const trend = usageTrend(days(30, () => 7));
    expect(trend).toEqual({ perDay: 0, used: 30 });
    expect(shortageDay(3, trend.perDay, '2027-03-30')).toBeNull();
  });

  it('finds none when use falls', () => {
    const trend = usageTrend(days(10, (i) => 9 - i * 0.5));
    expect(trend.perDay).toBeCloseTo(-0.5, 10);
    expect(shortageDay(5, trend.perDay, '2027-03-30')).toBeNull();
  });

  it('projects a rising use: 1 a day with 2 free runs short on the third day', () => {
    const trend = usageTrend(days(30, (i) => i));
    expect(trend.perDay).toBeCloseTo(1, 10);
    // Day +2 uses exactly all (not short); day +3 is one over.
    expect(shortageDay(2, trend.perDay, '2027-03-30')).toBe('2027-04-02');
    expect(shortageDay(0, trend.perDay, '2027-03-30')).toBe('2027-03-31');
  });

  it('fits noisy use by least squares, and gaps count as days', () => {
    // 0, 2, 1, 3, 2, 4 … : slope 0.5 a day on average with noise.
    const noisy = days(20, (i) => i * 0.5 + (i % 2 === 0 ? 0.5 : -0.5));
    expect(usageTrend(noisy).perDay).toBeGreaterThan(0.45);
    expect(usageTrend(noisy).perDay).toBeLessThan(0.6);
    const gaps: UsagePoint[] = [
      { day: '2027-01-01', quantity: 10, inUse: 0 },
      { day: '2027-01-11', quantity: 10, inUse: 5 },
    ];
    expect(usageTrend(gaps).perDay).toBeCloseTo(0.5, 10);
  });

  it('says today when the pool is already short, whatever the trend', () => {
    expect(shortageDay(-2, 0, '2027-03-30')).toBe('2027-03-30');
    expect(shortageDay(-1, -3, '2027-03-30')).toBe('2027-03-30');
  });

  it('has no trend from fewer than two snapshots, and uses only the last 30', () => {
    expect(usageTrend([])).toEqual({ perDay: 0, used: 0 });
    expect(usageTrend(days(1, () => 4))).toEqual({ perDay: 0, used: 1 });
    // 40 days: rising fast for the first 10, flat for the last 30 → flat.
    const old = days(40, (i) => (i < 10 ? i * 10 : 100));
    expect(usageTrend(old)).toEqual({ perDay: 0, used: 30 });
    // Unsorted input is sorted by day first.
    expect(usageTrend(days(5, (i) => i).reverse()).perDay).toBeCloseTo(1, 10);
  });

  it('reports none beyond ten years', () => {
    expect(shortageDay(1000, 0.1, '2027-03-30')).toBeNull();
    expect(shortageDay(100, 0.1, '2027-03-30')).toBe('2029-12-25');
  });
});
