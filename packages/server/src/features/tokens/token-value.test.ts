import { describe, expect, it } from 'vitest';
import { newTokenValue } from './token-service.js';

describe('registration token values', () => {
  it('never begin with "-", so a command line cannot take one for an option', () => {
    const values = Array.from({ length: 5000 }, newTokenValue);
    expect(values.filter((v) => v.startsWith('-'))).toEqual([]);
    expect(new Set(values).size).toBe(values.length);
    for (const v of values.slice(0, 50)) expect(v).toMatch(/^T[A-Za-z0-9_-]{64}$/);
  });
});
