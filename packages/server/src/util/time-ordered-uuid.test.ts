import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { timeOrderedUuid } from './time-ordered-uuid.js';

describe('time-ordered UUIDs (version 7)', () => {
  it("are RFC 9562 version 7 UUIDs that z.uuid() accepts (the protocol's instanceId), carrying the time given", () => {
    const ms = Date.UTC(2026, 11, 7, 14, 0, 0, 123);
    for (let i = 0; i < 2_000; i++) {
      const id = timeOrderedUuid(ms);
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(z.uuid().safeParse(id).success).toBe(true);
      expect(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(ms);
    }
  });

  it('sort as text in the order of their times, and never repeat', () => {
    const start = Date.UTC(2026, 0, 1);
    const ids = Array.from({ length: 5_000 }, (_, i) => timeOrderedUuid(start + i));
    expect([...ids].sort()).toEqual(ids);
    const same = Array.from({ length: 20_000 }, () => timeOrderedUuid(start));
    expect(new Set(same).size).toBe(same.length);
  });

  it('draws its random bits from fresh randomness, not one repeated pool', () => {
    // 20,000 ids span many refills of the pool: no two refills may give the same bytes.
    const tails = new Set(Array.from({ length: 20_000 }, () => timeOrderedUuid(0).slice(-12)));
    expect(tails.size).toBe(20_000);
  });
});
