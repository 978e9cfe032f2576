import { POLICY_ROUTES, type SignedRumReport, signEnvelope } from '@smartlic/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FuzzCase, ignoreKeyUses, sendCases, snapshotTables } from '../../test-support/fuzz.js';
import { PolicyDevice } from '../../test-support/policy-device.js';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';

/**
 * 2,000 mutated policy-model messages through real HTTP: spent messages with a byte changed,
 * fresh usage messages whose reports were altered after the device signed them (then wrapped in a
 * correctly signed message), reports of another device, and raw bodies to every policy route. Each
 * is answered 4xx with the error body, and the database does not change. Fixed seed.
 */
const SEED = 20261208;
const RUNS = 2000;
const TAG = 'regid.2026-01.com.example.dna-advantage';

describe('fuzzed policy-model messages', () => {
  let t: TestServer;
  let d: PolicyDevice;
  let other: PolicyDevice;
  const spent: FuzzCase[] = [];

  beforeAll(async () => {
    t = await startTestServer({ rateLimits: 'off' });
    const { vaId } = await t.admin.setupVa();
    await t.admin.addLicense(vaId, { tag: TAG, count: 10 });
    const token = (await t.admin.createToken(vaId)).token;
    const ctx = { url: t.url, clock: t.clock, rootCaPem: t.rootCaPem };
    d = new PolicyDevice(ctx, { pid: 'C9300-24UX', sn: 'FUZZ1' });
    other = new PolicyDevice(ctx, { pid: 'C9300-24UX', sn: 'FUZZ2' });
    expect((await d.trust(token)).status).toBe(200);
    expect((await other.trust(token)).status).toBe(200);
    for (const count of [1, 3]) {
      const envelope = d.usageEnvelope([d.report({ [TAG]: count })]);
      expect((await d.send(POLICY_ROUTES.usage, envelope)).status).toBe(200);
      spent.push({ label: 'spent usage', route: POLICY_ROUTES.usage, body: JSON.stringify(envelope) });
    }
    const slac = d.signIdentified('slac', { licenses: [{ tag: TAG, count: 1 }] });
    expect((await d.send(POLICY_ROUTES.slac, slac)).status).toBe(200);
    spent.push({ label: 'spent slac', route: POLICY_ROUTES.slac, body: JSON.stringify(slac) });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  const bytes = fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 32, max: 126 })).map(([i, at, code]): FuzzCase => {
    const base = spent[i % Math.max(1, spent.length)] as FuzzCase;
    const body = base.body as string;
    const pos = at % body.length;
    return {
      label: `${base.label} with byte ${pos} changed`,
      route: base.route,
      body: body.slice(0, pos) + String.fromCharCode(code) + body.slice(pos + 1),
    };
  });

  /** A fresh usage message whose report was altered after the device signed it. */
  const altered = fc
    .tuple(fc.integer({ min: -5, max: 1_000_000 }), fc.constantFrom('count', 'start', 'end', 'samples', 'tag'))
    .map(([value, field]): FuzzCase => {
      const report = d.report({ [TAG]: 2 }) as SignedRumReport;
      const m = report.payload.usage[0]!.measurements[0] as Record<string, number>;
      if (field === 'tag') (report.payload.usage[0] as { tag: string }).tag = `${TAG}x${value}`;
      else m[field] = (m[field] ?? 0) + 1 + Math.abs(value);
      return {
        label: `report altered in ${field}`,
        route: POLICY_ROUTES.usage,
        body: JSON.stringify(d.usageEnvelope([report])),
      };
    });

  /** A correctly signed message of d carrying a report of the other device, or a report signed by d for the other instance. */
  const foreign = fc.constantFrom('other report', 'claims other').map((kind): FuzzCase => {
    if (kind === 'other report') {
      return {
        label: kind,
        route: POLICY_ROUTES.usage,
        body: JSON.stringify(d.usageEnvelope([other.report({ [TAG]: 1 })])),
      };
    }
    const payload = { ...other.report({ [TAG]: 1 }).payload };
    const forged = signEnvelope(payload, d.keys.privateKey, other.idCertSerial);
    return { label: kind, route: POLICY_ROUTES.usage, body: JSON.stringify(d.usageEnvelope([forged])) };
  });

  const raw = fc
    .tuple(
      fc.constantFrom(...Object.values(POLICY_ROUTES)),
      fc.oneof(
        fc.json({ depthSize: 'small' }),
        fc.string({ unit: 'grapheme', maxLength: 200 }),
        fc.jsonValue().map((v) => JSON.stringify({ payload: v, signature: v })),
      ),
    )
    .map(([route, body]): FuzzCase => ({ label: `raw body to ${route}`, route, body }));

  it(`answers ${RUNS} mutated messages with 4xx and the error body, and changes nothing`, async () => {
    // The spent messages themselves, replayed as they were, besides the mutations.
    const cases = [...spent, ...fc.sample(fc.oneof(bytes, altered, foreign, raw), { seed: SEED, numRuns: RUNS })];
    const before = await t.inspect((db) => snapshotTables(db, ignoreKeyUses));
    expect(before).toContain(d.instanceId);
    const { wrong, codes } = await sendCases(t.url, cases, {}, 16);
    expect(wrong.slice(0, 20)).toEqual([]);
    for (const code of ['MALFORMED_JSON', 'BAD_REQUEST', 'SIGNATURE_MISMATCH']) {
      expect(codes[code] ?? 0, `${code} in ${JSON.stringify(codes)}`).toBeGreaterThan(100);
    }
    // Every spent message replayed meets the nonce check (so do byte changes that leave one intact).
    expect(codes.REPLAYED_NONCE ?? 0).toBeGreaterThanOrEqual(spent.length);
    expect(
      (await t.inspect((db) => snapshotTables(db, ignoreKeyUses))) === before,
      'a refused message changed the database',
    ).toBe(true);
    expect((await d.sync([d.report({ [TAG]: 4 })])).status).toBe(200);
  }, 180_000);
});
