import { createCsr, DEVICE_ROUTES, type Envelope, generateKeyPair, HOUR, signEnvelope } from '@smartlic/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Engine } from '../../storage/database.js';
import { type FuzzCase, ignoreKeyUses, sendCases, snapshotTables } from '../../test-support/fuzz.js';
import { describeEachEngine } from '../../test-support/postgres.js';
import type { SimDevice } from '../../test-support/sim-device.js';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';

/**
 * Over 10,000 mutated device messages through real HTTP: every one is answered 4xx with the
 * documented `{code, message, requestId}` body, and the database does not change. Messages
 * are signed once per base message and mutated after signing. Byte-level mutations (which may
 * leave a message intact by chance, e.g. a base64 padding bit) are applied only to messages
 * already accepted once, whose nonce is spent: even an intact one must be refused as a replay.
 * Mutations of fresh messages are invalid by construction (wrong key, wrong algorithm, skewed
 * clock, wrong types, members added after signing). Fixed seed: a failure reproduces.
 */

const SEED = 20261207;
const RUNS = 10_500;
/**
 * PostgreSQL gets a fifth of the cases: every check before storage is the same code on both
 * engines; what PostgreSQL adds (its nonce store, transactions, the unchanged tables) is met by
 * every accepted-then-replayed and storage-reaching case long before the fifth is through.
 */
const runsOn = (engine: Engine) => (engine === 'postgres' ? RUNS / 5 : RUNS);
const TAG = 'regid.2014-08.com.example.A';
const ROUTES = Object.values(DEVICE_ROUTES);

type Payload = Record<string, unknown>;
interface Base {
  route: string;
  envelope: Envelope<Payload>;
}

describeEachEngine('fuzzed device messages', (engine) => {
  let t: TestServer;
  const spent: Base[] = [];
  let live: SimDevice;

  beforeAll(async () => {
    t = await startTestServer({ engine, rateLimits: 'off' });
    const { vaId } = await t.admin.setupVa();
    await t.admin.addLicense(vaId, { tag: TAG, count: 10 });
    const token = (await t.admin.createToken(vaId)).token;
    // Messages accepted once, whose nonces are now spent.
    live = t.device();
    const register = await live.registerEnvelope(token);
    const first = await live.send(DEVICE_ROUTES.register, register);
    expect(first.status).toBe(200);
    live.verify(first, 'register', register);
    const payload = (first.body as Envelope<Payload>).payload;
    live.instanceId = payload.instanceId as string;
    live.idCertSerial = payload.idCertSerial as string;
    spent.push({ route: DEVICE_ROUTES.register, envelope: register });
    for (const count of [1, 3, 2]) {
      const envelope = live.authorizeEnvelope([{ tag: TAG, count }]);
      expect((await live.send(DEVICE_ROUTES.authorize, envelope)).status).toBe(200);
      spent.push({ route: DEVICE_ROUTES.authorize, envelope });
    }
    const renewing = t.device();
    expect((await renewing.register(token)).status).toBe(200);
    const renewKeys = generateKeyPair();
    const renew = renewing.sign(
      renewing.identified('renew-id', { csr: await createCsr(renewKeys, `CN=${renewing.udi.pid}`) }),
    );
    expect((await renewing.send(DEVICE_ROUTES.renewId, renew)).status).toBe(200);
    spent.push({ route: DEVICE_ROUTES.renewId, envelope: renew });
    const leaving = t.device();
    expect((await leaving.register(token)).status).toBe(200);
    const deregister = leaving.sign(leaving.identified('deregister'));
    expect((await leaving.send(DEVICE_ROUTES.deregister, deregister)).status).toBe(200);
    spent.push({ route: DEVICE_ROUTES.deregister, envelope: deregister });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  /** A fresh authorize message of the live device (fresh nonce and timestamp), before signing. */
  const freshAuthorize = (extra: Payload = {}): Payload =>
    live.identified('authorize', { entitlements: [{ tag: TAG, count: 4 }], ...extra });

  const wrongValue = fc.oneof(
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.array(fc.integer(), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 8 }), fc.integer(), { maxKeys: 3 }),
  );
  const oddKey = fc.oneof(
    fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', '\u0000', 'ünïcødé'),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
  );
  const nested = (depth: number): unknown => {
    let value: unknown = 1;
    for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { a: value };
    return value;
  };
  const withKey = (object: Payload, key: string, value: unknown): Payload => {
    const copy = { ...object };
    Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
    return copy;
  };

  /** Byte-level mutations of the JSON text of a spent message. */
  const bytes = fc
    .tuple(
      fc.nat(5),
      fc.oneof(
        fc.record({ kind: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 0.999, noNaN: true }) }),
        fc.record({
          kind: fc.constant('replace' as const),
          at: fc.double({ min: 0, max: 0.999, noNaN: true }),
          text: fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }),
        }),
        fc.record({
          kind: fc.constant('insert' as const),
          at: fc.double({ min: 0, max: 0.999, noNaN: true }),
          text: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
        }),
        fc.record({
          kind: fc.constant('delete' as const),
          at: fc.double({ min: 0, max: 0.999, noNaN: true }),
          length: fc.integer({ min: 1, max: 40 }),
        }),
      ),
      fc.boolean(),
    )
    .map(([index, m, otherRoute]): FuzzCase => {
      const base = spent[index % spent.length]!;
      const text = JSON.stringify(base.envelope);
      const at = Math.floor(m.at * text.length);
      let body: string;
      if (m.kind === 'truncate') body = text.slice(0, at);
      else if (m.kind === 'replace') body = text.slice(0, at) + m.text + text.slice(at + m.text.length);
      else if (m.kind === 'insert') body = text.slice(0, at) + m.text + text.slice(at);
      else body = text.slice(0, at) + text.slice(at + m.length);
      const route = otherRoute ? ROUTES[at % ROUTES.length]! : base.route;
      return { label: `bytes ${m.kind} at ${at} of ${base.route} to ${route}`, route, body };
    });

  /** Structural mutations of a spent message, not re-signed. */
  const structure = fc
    .tuple(
      fc.nat(5),
      fc.oneof(
        fc.record({ kind: fc.constant('replay' as const) }),
        fc.record({
          kind: fc.constant('wrong-type' as const),
          field: fc.constantFrom(
            'type',
            'version',
            'timestamp',
            'nonce',
            'instanceId',
            'idCertSerial',
            'signingCertSerial',
            'entitlements',
            'udi',
            'csr',
            'idToken',
            'force',
          ),
          value: wrongValue,
        }),
        fc.record({
          kind: fc.constant('missing' as const),
          field: fc.constantFrom('type', 'version', 'timestamp', 'nonce', 'instanceId', 'entitlements', 'udi', 'csr'),
        }),
        fc.record({ kind: fc.constant('extra' as const), key: oddKey, value: wrongValue }),
        fc.record({
          kind: fc.constant('alg' as const),
          alg: fc.oneof(fc.constantFrom('none', 'HS256', 'RS256', 'ES384', 'Ed25519', 'es256', ''), fc.string()),
        }),
        fc.record({
          kind: fc.constant('cert-serial' as const),
          serial: fc.string({ unit: 'grapheme', maxLength: 80 }),
        }),
        fc.record({
          kind: fc.constant('signature-value' as const),
          value: fc.oneof(fc.base64String({ maxLength: 120 }), wrongValue),
        }),
        fc.record({ kind: fc.constant('deep' as const), depth: fc.integer({ min: 20, max: 3000 }) }),
        fc.record({ kind: fc.constant('huge' as const), size: fc.integer({ min: 60_000, max: 200_000 }) }),
        fc.record({ kind: fc.constant('envelope-type' as const), value: wrongValue }),
      ),
    )
    .map(([index, m]): FuzzCase => {
      const base = spent[index % spent.length]!;
      const { payload, signature } = base.envelope;
      let body: unknown;
      switch (m.kind) {
        case 'replay':
          body = base.envelope;
          break;
        case 'wrong-type':
          body = { payload: { ...payload, [m.field]: m.value }, signature };
          break;
        case 'missing': {
          const { [m.field]: _gone, ...rest } = payload;
          body = { payload: rest, signature };
          break;
        }
        case 'extra':
          body = { payload: withKey(payload, m.key, m.value), signature };
          break;
        case 'alg':
          body = { payload, signature: { ...signature, alg: m.alg } };
          break;
        case 'cert-serial':
          body = { payload, signature: { ...signature, certSerial: m.serial } };
          break;
        case 'signature-value':
          body = { payload, signature: { ...signature, value: m.value } };
          break;
        case 'deep':
          body = { payload: { ...payload, entitlements: nested(m.depth) }, signature };
          break;
        case 'huge':
          body = { payload: { ...payload, padding: 'x'.repeat(m.size) }, signature };
          break;
        case 'envelope-type':
          body = m.value;
          break;
      }
      return { label: `structure ${m.kind} of ${base.route}`, route: base.route, body: JSON.stringify(body) };
    });

  /** Fresh messages, made invalid and signed (or signed, then made invalid). */
  const fresh = fc.oneof(
    fc.constant('wrong-key' as const).map((): FuzzCase => {
      const envelope = signEnvelope(freshAuthorize(), generateKeyPair().privateKey, live.idCertSerial!);
      return { label: 'fresh signed by another key', route: DEVICE_ROUTES.authorize, body: JSON.stringify(envelope) };
    }),
    fc.constant('wrong-alg' as const).map((): FuzzCase => {
      const envelope = live.sign(freshAuthorize());
      const body = { ...envelope, signature: { ...envelope.signature, alg: 'Ed25519' } };
      return { label: 'fresh ES256 declared as Ed25519', route: DEVICE_ROUTES.authorize, body: JSON.stringify(body) };
    }),
    fc
      .oneof(fc.integer({ min: 3 * HOUR, max: 400 * 24 * HOUR }), fc.integer({ min: -400 * 24 * HOUR, max: -3 * HOUR }))
      .map((skew): FuzzCase => {
        const envelope = live.sign(freshAuthorize({ timestamp: t.clock.now() + skew }));
        return { label: `fresh skewed by ${skew} ms`, route: DEVICE_ROUTES.authorize, body: JSON.stringify(envelope) };
      }),
    fc
      .record({
        field: fc.constantFrom('version', 'timestamp', 'nonce', 'instanceId', 'idCertSerial', 'entitlements'),
        value: fc.oneof(
          fc.constant(null),
          fc.boolean(),
          fc.array(fc.boolean(), { minLength: 1, maxLength: 3 }),
          fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), fc.boolean(), { minKeys: 1, maxKeys: 3 }),
        ),
      })
      .map(({ field, value }): FuzzCase => {
        const envelope = live.sign(freshAuthorize({ [field]: value }));
        return {
          label: `fresh re-signed with ${field} of a wrong type`,
          route: DEVICE_ROUTES.authorize,
          body: JSON.stringify(envelope),
        };
      }),
    fc.record({ key: oddKey, value: wrongValue }).map(({ key, value }): FuzzCase => {
      const envelope = live.sign(freshAuthorize());
      const body = { ...envelope, payload: withKey(envelope.payload, key, value) };
      return {
        label: `fresh with member ${JSON.stringify(key)} added after signing`,
        route: DEVICE_ROUTES.authorize,
        body: JSON.stringify(body),
      };
    }),
    fc.constantFrom(DEVICE_ROUTES.register, DEVICE_ROUTES.renewId, DEVICE_ROUTES.convert).map(
      (route): FuzzCase => ({
        label: `fresh authorize sent to ${route}`,
        route,
        body: JSON.stringify(live.sign(freshAuthorize())),
      }),
    ),
  );

  /** Arbitrary JSON and text to any device route. */
  const raw = fc
    .tuple(
      fc.constantFrom(...ROUTES),
      fc.oneof(
        fc.json({ depthSize: 'small' }),
        fc.string({ unit: 'grapheme', maxLength: 200 }),
        fc.jsonValue().map((v) => JSON.stringify({ payload: v, signature: v })),
      ),
    )
    .map(([route, body]): FuzzCase => ({ label: `raw body to ${route}`, route, body }));

  it(`answers ${runsOn(engine)} mutated messages with 4xx and the error body, and changes nothing`, async () => {
    const runs = runsOn(engine);
    const cases = fc.sample(fc.oneof(bytes, structure, fresh, raw), { seed: SEED, numRuns: runs });
    const before = await t.inspect((db) => snapshotTables(db, ignoreKeyUses));
    expect(before, 'the snapshot sees the server’s rows').toContain(live.instanceId);
    const { wrong, codes } = await sendCases(t.url, cases, {}, 16);
    expect(wrong.slice(0, 20)).toEqual([]);
    // The mutations reach every check, not only the JSON parser.
    for (const code of [
      'MALFORMED_JSON',
      'BAD_REQUEST',
      'BODY_TOO_LARGE',
      'SIGNATURE_MISMATCH',
      'UNSUPPORTED_ALGORITHM',
      'CLOCK_OFFSET',
      'REPLAYED_NONCE',
    ]) {
      expect(codes[code] ?? 0, `${code} in ${JSON.stringify(codes)}`).toBeGreaterThan((50 * runs) / RUNS);
    }
    expect(
      (await t.inspect((db) => snapshotTables(db, ignoreKeyUses))) === before,
      'a refused message changed the database',
    ).toBe(true);
    // The live device still authorizes: nothing above broke it.
    expect((await live.authorize([{ tag: TAG, count: 1 }])).status).toBe(200);
  }, 120_000);
});
