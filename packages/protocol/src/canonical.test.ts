import { describe, expect, it } from 'vitest';
import { canonicalize } from './canonical.js';
import { loadVectors } from './vectors.js';

describe('canonical form', () => {
  for (const v of loadVectors().canonical) {
    it(`vector: ${v.name}`, () => {
      expect(canonicalize(v.input)).toBe(v.canonical);
    });
  }

  it('gives equal bytes for equal values whatever the key order', () => {
    expect(canonicalize({ a: 1, b: { c: 2, d: 3 } })).toBe(canonicalize({ b: { d: 3, c: 2 }, a: 1 }));
  });

  it('refuses values that have no JSON form', () => {
    expect(() => canonicalize({ n: Number.NaN })).toThrow(/non-finite/);
    expect(() => canonicalize({ n: Number.POSITIVE_INFINITY })).toThrow(/non-finite/);
    expect(() => canonicalize({ f: () => 1 })).toThrow(/function/);
    expect(() => canonicalize({ b: 1n })).toThrow(/bigint/);
  });
});
