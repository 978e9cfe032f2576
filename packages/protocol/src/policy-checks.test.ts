import { createPublicKey } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Check, parseWith } from './check.js';
import * as checks from './policy-checks.js';
import * as schema from './policy-messages.js';
import { verifyEnvelope } from './signing.js';
import { loadPolicyVectors, type PolicyVectorType } from './vectors.js';

interface SafeParser {
  safeParse(value: unknown): { success: boolean; data?: unknown };
}

const PAIRS: Record<PolicyVectorType, [SafeParser, Check<unknown>]> = {
  trust: [schema.TrustRequest, checks.checkTrustRequest],
  usage: [schema.UsageRequest, checks.checkUsageRequest],
  slac: [schema.SlacRequest, checks.checkSlacRequest],
  'slac-return': [schema.SlacReturnRequest, checks.checkSlacReturnRequest],
  'rum-report': [schema.RumReport, checks.checkRumReport],
  ack: [schema.Ack, checks.checkAck],
  'usage-file': [schema.UsageFile, checks.checkUsageFile],
  'ack-file': [schema.AckFile, checks.checkAckFile],
};

const vectors = loadPolicyVectors();

describe('policy-model vectors', () => {
  for (const v of vectors.messages) {
    it(`${v.name}: zod and the zod-free check both say ${v.valid ? 'valid' : 'invalid'}`, () => {
      const [zod, check] = PAIRS[v.type];
      const parsed = zod.safeParse(v.message);
      const checked = parseWith(check, v.message);
      expect(parsed.success).toBe(v.valid);
      expect(checked.ok).toBe(v.valid);
      if (parsed.success && checked.ok) expect(checked.value).toEqual(parsed.data);
    });
  }
  for (const v of vectors.signatures) {
    it(`signature: ${v.name}`, () => {
      expect(verifyEnvelope(v.envelope, createPublicKey(v.publicKeyPem))).toBe(v.valid);
    });
  }
});

/** Replaces one leaf of `value` (found by walking with `path` choices) with `replacement`. */
function mutate(value: unknown, choices: number[], replacement: unknown): unknown {
  if (choices.length === 0 || typeof value !== 'object' || value === null) return replacement;
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [...value] : { ...(value as object) };
  const keys = Object.keys(copy);
  if (keys.length === 0) return replacement;
  const key = keys[(choices[0] ?? 0) % keys.length] as string;
  (copy as Record<string, unknown>)[key] = mutate(
    (copy as Record<string, unknown>)[key],
    choices.slice(1),
    replacement,
  );
  return copy;
}

describe('zod and the zod-free checks agree on mutated policy messages', () => {
  const valid = vectors.messages.filter((v) => v.valid);
  const odd = fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.integer(),
    fc.double(),
    fc.string({ maxLength: 5 }),
    fc.constant(''),
    fc.constant(-1),
    fc.constant(3651),
    fc.boolean(),
    fc.constant([]),
    fc.constant({}),
  );
  it('for 3,000 mutations', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: valid.length - 1 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        odd,
        (i, path, replacement) => {
          const v = valid[i] as (typeof valid)[number];
          const [zod, check] = PAIRS[v.type];
          const m = mutate(v.message, path, replacement);
          const parsed = zod.safeParse(m);
          const checked = parseWith(check, m);
          expect(checked.ok).toBe(parsed.success);
          if (parsed.success && checked.ok) expect(checked.value).toEqual(parsed.data);
        },
      ),
      { numRuns: 3000, seed: 1813 },
    );
  });
});
