import { SmartlicError } from '@smartlic/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadVectors, type MessageVector } from '../../test-support/vectors.js';
import { type DeviceMessageType, parseDeviceRequest, parseDeviceRequestWithSchemas } from './device-request.js';

// parseDeviceRequest checks valid messages with the protocol's zod-free checks and leaves
// refusals to the zod schemas: whatever the body, it must answer exactly as the schemas alone do.

const valid = loadVectors<MessageVector>('messages').filter((v) => v.valid);
const signature = { alg: 'ES256', certSerial: '0a1b', value: 'AAAA' };

type Outcome = { ok: true; value: unknown } | { ok: false; code: string; message: string; fields: unknown };

function outcome(parse: () => unknown): Outcome {
  try {
    return { ok: true, value: parse() };
  } catch (error) {
    if (!(error instanceof SmartlicError)) throw error;
    return { ok: false, code: error.code, message: error.message, fields: error.context.fields };
  }
}

function bothWays(type: DeviceMessageType, body: unknown): [Outcome, Outcome] {
  return [outcome(() => parseDeviceRequest(type, body)), outcome(() => parseDeviceRequestWithSchemas(type, body))];
}

type Path = Array<string | number>;

function pathsOf(value: unknown, at: Path = []): Path[] {
  const here: Path[] = [at];
  if (value === null || typeof value !== 'object') return here;
  for (const [key, member] of Object.entries(value)) {
    here.push(...pathsOf(member, [...at, Array.isArray(value) ? Number(key) : key]));
  }
  return here;
}

type Mutation = { kind: 'set'; value: unknown } | { kind: 'delete' } | { kind: 'add'; key: string; value: unknown };

function mutate(root: unknown, path: Path, mutation: Mutation): unknown {
  const copy = structuredClone(root);
  if (path.length === 0) return mutation.kind === 'set' ? mutation.value : copy;
  let parent = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (mutation.kind === 'set') parent[last] = mutation.value;
  else if (mutation.kind === 'delete') delete parent[last];
  else {
    const target = parent[last];
    if (target !== null && typeof target === 'object' && !Array.isArray(target)) {
      Object.defineProperty(target, mutation.key, { value: mutation.value, enumerable: true, writable: true });
    }
  }
  return copy;
}

const tricky = fc.oneof(
  fc.constantFrom('', ' ', 'ES512', 'csr', 'InCompliance', '0a1b', 'A'.repeat(300), '-----BEGIN', '\u0000', '\u202e'),
  fc.constantFrom(0, -1, 1.5, 2 ** 53, Number.MAX_SAFE_INTEGER, 946_684_800_000, 253_402_300_800_000, 1e21),
  fc.constantFrom(null, true, false, [], {}, [1], { a: 1 }),
  fc.string({ maxLength: 80 }),
  fc.integer(),
);
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), value: fc.oneof(tricky, fc.jsonValue({ maxDepth: 2 })) }),
  fc.constant({ kind: 'delete' as const }),
  fc.record({
    kind: fc.constant('add' as const),
    key: fc.constantFrom('extra', 'type', 'nonce', '__proto__', 'chain', 'signer'),
    value: tricky,
  }),
);

describe('parseDeviceRequest: the zod-free path answers as the schemas do', () => {
  it('has valid vectors of every message type', () => {
    expect(new Set(valid.map((v) => v.type))).toEqual(
      new Set(['register', 'authorize', 'renew-id', 'deregister', 'convert']),
    );
  });

  it('gives the same request for every valid vector, unknown members dropped from the validated payload only', () => {
    for (const vector of valid) {
      const body = { payload: { ...vector.message, extra: 1 }, signature: { ...signature, extra: 2 } };
      const [fast, schemas] = bothWays(vector.type, body);
      expect(fast, vector.name).toEqual(schemas);
      expect(fast.ok, vector.name).toBe(true);
      const request = (fast as { value: { payload: object; envelope: { payload: object } } }).value;
      expect(request.payload, vector.name).not.toHaveProperty('extra');
      expect(request.envelope.payload, vector.name).toBe(body.payload);
    }
  });

  it('accepts and refuses the same mutated bodies, with the same code, message and fields', () => {
    const cases = fc.record({
      vector: fc.constantFrom(...valid),
      mutations: fc.array(fc.tuple(fc.nat(), mutationArb), { minLength: 1, maxLength: 3 }),
    });
    fc.assert(
      fc.property(cases, ({ vector, mutations }) => {
        let body: unknown = { payload: vector.message, signature };
        for (const [pick, mutation] of mutations) {
          const paths = pathsOf(body);
          body = mutate(body, paths[pick % paths.length] ?? [], mutation);
        }
        const [fast, schemas] = bothWays(vector.type, body);
        expect(fast, JSON.stringify(body)).toEqual(schemas);
      }),
      { numRuns: 4000 },
    );
  });

  it('refuses an unknown algorithm as UNSUPPORTED_ALGORITHM, as before', () => {
    const vector = valid.find((v) => v.type === 'authorize')!;
    const body = { payload: vector.message, signature: { ...signature, alg: 'RS256' } };
    const [fast, schemas] = bothWays('authorize', body);
    expect(fast).toEqual(schemas);
    expect(fast).toMatchObject({ ok: false, code: 'UNSUPPORTED_ALGORITHM' });
  });
});
