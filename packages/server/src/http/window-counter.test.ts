import { describe, expect, it } from 'vitest';
import { WindowCounter } from './window-counter.js';

describe('WindowCounter', () => {
  it('allows max requests per window, then refuses until the window ends, telling how long', () => {
    let now = 1_000;
    const counter = new WindowCounter(3, 60_000, () => now);
    expect([1, 2, 3].map(() => counter.hit('a'))).toEqual(Array(3).fill({ allowed: true }));
    now += 20_000;
    expect(counter.hit('a')).toEqual({ allowed: false, ttlMs: 40_000 });
    expect(counter.hit('b')).toEqual({ allowed: true });
    now += 39_999;
    expect(counter.hit('a')).toEqual({ allowed: false, ttlMs: 1 });
    now += 1;
    expect(counter.hit('a')).toEqual({ allowed: true });
  });

  it('keeps at most maxKeys keys, forgetting the least recently counted first', () => {
    const counter = new WindowCounter(1, 60_000, () => 0, 2);
    counter.hit('a');
    counter.hit('b');
    expect(counter.hit('a')).toEqual({ allowed: false, ttlMs: 60_000 });
    counter.hit('c'); // forgets b, the least recently counted
    expect(counter.hit('b')).toEqual({ allowed: true });
    expect(counter.hit('c')).toEqual({ allowed: false, ttlMs: 60_000 });
  });
});
