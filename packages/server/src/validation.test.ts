import { SmartlicError } from '@smartlic/protocol';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { IsoDate, parseInput } from './validation.js';

describe('parseInput', () => {
  it('throws BAD_REQUEST with one message per field and a readable summary', () => {
    const schema = z.object({ name: z.string().min(1), count: z.number().int() });
    try {
      parseInput(schema, { name: '', count: 1.5 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SmartlicError);
      const e = error as SmartlicError;
      expect(e.code).toBe('BAD_REQUEST');
      expect(Object.keys(e.context.fields as object)).toEqual(['name', 'count']);
      expect(e.message).toMatch(/^The request is not valid: name: .+; count: .+$/);
    }
  });

  it('names the value itself `_` when it is not an object at all', () => {
    expect(() => parseInput(z.object({}), 'text')).toThrow(/The request is not valid: /);
  });
});

describe('IsoDate', () => {
  it('reads dates and date-times, UTC unless a zone is given', () => {
    expect(IsoDate.parse('2027-01-31')).toBe(Date.UTC(2027, 0, 31));
    expect(IsoDate.parse('2027-01-31T12:00:00Z')).toBe(Date.UTC(2027, 0, 31, 12));
    expect(IsoDate.parse('2027-01-31T12:00')).toBe(Date.UTC(2027, 0, 31, 12));
    expect(IsoDate.parse('2027-01-31T12:00:00+02:00')).toBe(Date.UTC(2027, 0, 31, 10));
  });

  it('refuses anything else', () => {
    for (const bad of ['tomorrow', '2027-13-01', '2027-02-30T00:00:00Z', '31/01/2027', '']) {
      expect(IsoDate.safeParse(bad).success, bad).toBe(false);
    }
  });
});
