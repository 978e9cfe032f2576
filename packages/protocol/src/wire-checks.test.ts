import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Check, parseWith } from './check.js';
import * as schema from './messages.js';
import { loadVectors } from './vectors.js';
import * as checks from './wire-checks.js';

// The agent validates messages with the zod-free checks of wire-checks.ts; the server with the
// zod schemas of messages.ts. Both must accept exactly the same values and return the same
// result, or a device and its authority would disagree about what a valid message is.

interface SafeParser {
  safeParse(value: unknown): { success: boolean; data?: unknown };
}

const PAIRS: Array<[string, SafeParser, Check<unknown>]> = [
  ['register', schema.RegisterRequest, checks.checkRegisterRequest],
  ['register-response', schema.RegisterResponse, checks.checkRegisterResponse],
  ['authorize', schema.AuthorizeRequest, checks.checkAuthorizeRequest],
  ['authorize-response', schema.AuthorizeResponse, checks.checkAuthorizeResponse],
  ['renew-id', schema.RenewIdRequest, checks.checkRenewIdRequest],
  ['renew-id-response', schema.RenewIdResponse, checks.checkRenewIdResponse],
  ['deregister', schema.DeregisterRequest, checks.checkDeregisterRequest],
  ['deregister-response', schema.DeregisterResponse, checks.checkDeregisterResponse],
  ['convert', schema.ConvertRequest, checks.checkConvertRequest],
  ['convert-response', schema.ConvertResponse, checks.checkConvertResponse],
  ['envelope', schema.Envelope, checks.checkEnvelope],
  ['error', schema.ErrorBody, checks.checkErrorBody],
];

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const fresh = { version: 1, timestamp: 1_790_000_000_000, nonce: 'AAAAAAAAAAAAAAAAAAAAAA' };
const ids = {
  instanceId: '3f2b8c9e-4d1a-4e6b-9c2d-1a2b3c4d5e6f',
  idCertSerial: '1a2b',
  signingCertSerial: 'ff01',
};
const certificate = {
  instanceId: ids.instanceId,
  idCertificate: PEM,
  idCertSerial: '1a2b',
  idCertExpiresAt: 1_820_000_000_000,
  renewIntervalMs: 15_552_000_000,
  signingCertificate: PEM,
  signingCertSerial: 'ff01',
};

/** One valid value of each kind (the vectors add more requests). */
const VALID: Record<string, unknown[]> = {
  'register-response': [
    {
      type: 'register-response',
      ...fresh,
      ...certificate,
      smartAccount: { id: 'sa-1', name: 'Example', domain: 'example.com' },
      virtualAccount: { id: 'va-1', name: 'Default' },
      exportControlled: false,
    },
  ],
  'authorize-response': [
    {
      type: 'authorize-response',
      ...fresh,
      instanceId: ids.instanceId,
      status: 'OutOfCompliance',
      entitlements: [
        { tag: 'regid.2026-01.com.example.A', requested: 3, status: 'InCompliance', displayName: 'A' },
        { tag: 'regid.2026-01.com.example.B', requested: 0, status: 'OutOfCompliance' },
      ],
      authorizedAt: 1_790_000_000_000,
      expiresAt: 1_797_776_000_000,
      renewIntervalMs: 2_592_000_000,
      retryIntervalMs: 82_800_000,
    },
  ],
  'renew-id-response': [{ type: 'renew-id-response', ...fresh, ...certificate }],
  'deregister-response': [{ type: 'deregister-response', ...fresh, instanceId: ids.instanceId }],
  convert: [
    {
      type: 'convert',
      ...fresh,
      ...ids,
      licenses: [
        { legacyId: 'PAK-1:F1', tag: 'regid.x', count: 2 },
        { legacyId: 'PAK-2', tag: 'regid.y', count: 1, name: 'Y', type: 'term', endsAt: 1_800_000_000_000 },
      ],
    },
  ],
  'convert-response': [
    {
      type: 'convert-response',
      ...fresh,
      instanceId: ids.instanceId,
      deposited: [{ tag: 'regid.x', count: 2 }],
      alreadyConverted: false,
    },
    {
      type: 'convert-response',
      ...fresh,
      instanceId: ids.instanceId,
      deposited: [{ tag: 'regid.x', count: 2 }],
      alreadyConverted: false,
      licenses: [
        { legacyId: 'PAK-1:F1', tag: 'regid.x', count: 2, outcome: 'deposited' },
        { legacyId: 'PAK-2', tag: 'regid.y', count: 500, outcome: 'pending' },
        { legacyId: 'PAK-0', tag: 'regid.y', count: 1, outcome: 'already-reported' },
      ],
    },
  ],
  envelope: [{ payload: { a: 1, b: [true] }, signature: { alg: 'ES256', certSerial: 'csr', value: 'abc_-' } }],
  error: [
    { code: 'BAD_REQUEST', message: 'no' },
    { code: 'X', message: 'y', requestId: 'r1', fields: { timestamp: ['too far'] } },
  ],
};
for (const vector of loadVectors().messages) {
  if (vector.valid) VALID[vector.type] = [...(VALID[vector.type] ?? []), vector.message];
}

/** Every path of a JSON value, as lists of keys. */
function pathsOf(value: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  const here = [at];
  if (Array.isArray(value)) return here.concat(...value.map((v, i) => pathsOf(v, [...at, i])));
  if (value && typeof value === 'object') {
    return here.concat(...Object.entries(value).map(([k, v]) => pathsOf(v, [...at, k])));
  }
  return here;
}

type Mutation = { kind: 'set'; value: unknown } | { kind: 'delete' } | { kind: 'add'; key: string; value: unknown };

/** Applies `mutation` at `path` of a deep copy of `value`. */
function mutate(value: unknown, path: Array<string | number>, mutation: Mutation): unknown {
  const copy = structuredClone(value);
  if (path.length === 0) {
    if (mutation.kind === 'set') return mutation.value;
    if (mutation.kind === 'delete') return undefined;
  }
  let parent = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path.at(-1);
  if (mutation.kind === 'add') {
    const target = last === undefined ? parent : parent[last];
    if (target && typeof target === 'object' && !Array.isArray(target)) {
      // As JSON.parse does: an own member, even for "__proto__".
      Object.defineProperty(target, mutation.key, { value: mutation.value, enumerable: true, writable: true });
    }
  } else if (last !== undefined) {
    if (mutation.kind === 'set') parent[last] = mutation.value;
    else if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  }
  return copy;
}

/** Values at the edges of the schemas' rules. */
const tricky = fc.constantFrom<unknown>(
  '',
  'x',
  'csr',
  '1a2b',
  'ABCD',
  '0'.repeat(41),
  'a'.repeat(15),
  'a'.repeat(16),
  'a'.repeat(64),
  'a'.repeat(65),
  'a+b',
  'x'.repeat(257),
  'x'.repeat(513),
  '-----BEGIN',
  '00000000-0000-0000-0000-000000000000',
  '3f2b8c9e-4d1a-0e6b-9c2d-1a2b3c4d5e6f',
  '3F2B8C9E-4D1A-4E6B-AC2D-1A2B3C4D5E6F',
  'InCompliance',
  'ES256',
  'Ed25519',
  'term',
  'enforced',
  // Text the field rules refuse or just allow.
  'C9500 32C NW Advantage',
  'trailing ',
  ' leading',
  '=HYPERLINK("http://x","y")',
  'sw1\u001b[31m',
  'a\u0000b',
  'tab\there',
  'core-sw1.lab_2.example.com',
  '-leading.hyphen',
  'label.',
  'é',
  'bidi\u202ename',
  'line\u2028separator',
  '\ud800',
  'x'.repeat(253),
  'x'.repeat(254),
  // Dates at the edges of the range.
  946_684_799_999,
  946_684_800_000,
  253_402_300_799_999,
  253_402_300_800_000,
  8_640_000_000_000_001,
  0,
  -1,
  1,
  1.5,
  2 ** 53,
  100_000,
  100_001,
  1_000_000_000,
  1_000_000_001,
  'pending',
  'already-reported',
  Number.MAX_SAFE_INTEGER,
  true,
  false,
  null,
  [],
  {},
  [1],
  { a: 1 },
);

const mutationArb = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), value: fc.oneof(tricky, fc.jsonValue({ maxDepth: 2 })) }),
  fc.constant({ kind: 'delete' as const }),
  fc.record({
    kind: fc.constant('add' as const),
    key: fc.constantFrom('extra', 'type', 'nonce', '__proto__'),
    value: tricky,
  }),
);

describe('the zod-free checks and the zod schemas', () => {
  it('have a valid sample of every kind, which both accept with the same result', () => {
    for (const [name, zod, check] of PAIRS) {
      const samples = VALID[name] ?? [];
      expect(samples.length, name).toBeGreaterThan(0);
      for (const sample of samples) {
        const parsed = zod.safeParse(sample);
        const checked = parseWith(check, sample);
        expect(parsed.success, `${name} zod`).toBe(true);
        expect(checked, name).toEqual({ ok: true, value: parsed.data });
      }
    }
  });

  it('accept and refuse exactly the same mutations of valid messages', () => {
    const cases = fc.integer({ min: 0, max: PAIRS.length - 1 }).chain((pair) => {
      const name = PAIRS[pair]?.[0] ?? '';
      const samples = VALID[name] ?? [];
      return fc.record({
        pair: fc.constant(pair),
        sample: fc.constantFrom(...samples),
        mutations: fc.array(fc.tuple(fc.nat(), mutationArb), { minLength: 1, maxLength: 3 }),
      });
    });
    fc.assert(
      fc.property(cases, ({ pair, sample, mutations }) => {
        const [name, zod, check] = PAIRS[pair] as (typeof PAIRS)[number];
        let value: unknown = sample;
        for (const [pick, mutation] of mutations) {
          const paths = pathsOf(value);
          value = mutate(value, paths[pick % paths.length] ?? [], mutation);
        }
        const parsed = zod.safeParse(value);
        const checked = parseWith(check, value);
        expect(checked.ok, `${name}: ${JSON.stringify(value)}`).toBe(parsed.success);
        if (checked.ok) expect(checked.value).toEqual(parsed.data);
      }),
      { numRuns: 6000 },
    );
  });

  it('name the place of the first problem', () => {
    const response = VALID['authorize-response']?.[0] as { entitlements: Array<Record<string, unknown>> };
    const bad = structuredClone(response);
    (bad.entitlements[1] as Record<string, unknown>).requested = -1;
    expect(parseWith(checks.checkAuthorizeResponse, bad)).toEqual({
      ok: false,
      problem: 'entitlements[1].requested: expected an integer ≥ 0',
    });
    expect(parseWith(checks.checkEnvelope, 5)).toEqual({ ok: false, problem: 'value: expected an object' });
  });
});
