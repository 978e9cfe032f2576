import { describe, expect, it } from 'vitest';
import { pooledRandomBytes } from './random-pool.js';

describe('pooled random bytes', () => {
  it('gives each caller bytes of its own, across refills of the pool', () => {
    const draws = Array.from({ length: 3_000 }, (_, i) => pooledRandomBytes(1 + (i % 40)));
    for (const [i, draw] of draws.entries()) expect(draw).toHaveLength(1 + (i % 40));
    // 16-byte draws never repeat; a caller writing into its copy changes no other draw.
    const keys = Array.from({ length: 2_000 }, () => pooledRandomBytes(16).toString('hex'));
    expect(new Set(keys).size).toBe(keys.length);
    const a = pooledRandomBytes(16);
    const b = pooledRandomBytes(16);
    const before = b.toString('hex');
    a.fill(0);
    expect(b.toString('hex')).toBe(before);
  });

  it('looks random: every byte value turns up, about as often as any other', () => {
    const counts = new Array<number>(256).fill(0);
    for (let i = 0; i < 1_000; i++) for (const byte of pooledRandomBytes(64)) counts[byte]!++;
    // 64,000 bytes: 250 of each value expected; a fair source stays well within 150–350.
    expect(Math.min(...counts)).toBeGreaterThan(150);
    expect(Math.max(...counts)).toBeLessThan(350);
  });

  it('refuses a draw larger than its pool', () => {
    expect(() => pooledRandomBytes(4_097)).toThrow(RangeError);
  });
});
