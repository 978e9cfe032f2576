import { describe, expect, it } from 'vitest';
import { REQUEST_SCHEMAS } from './messages.js';
import { loadVectors } from './vectors.js';

describe('message schemas', () => {
  for (const v of loadVectors().messages) {
    it(`vector: ${v.name}`, () => {
      expect(REQUEST_SCHEMAS[v.type].safeParse(v.message).success).toBe(v.valid);
    });
  }
});
