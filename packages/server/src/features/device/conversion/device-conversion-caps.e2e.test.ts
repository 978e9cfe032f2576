import { DEVICE_ROUTES, LEGACY_LICENSE_COUNT_MAX } from '@smartlic/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AdminClient } from '../../../test-support/admin-client.js';
import { describeEachEngine } from '../../../test-support/postgres.js';
import { errorOf, type SimDevice } from '../../../test-support/sim-device.js';
import { startTestServer, type TestServer } from '../../../test-support/test-server.js';

interface Conversion {
  id: string;
  legacyId: string;
  tag: string;
  count: number;
  status: 'pending' | 'approved' | 'rejected';
  reason: string;
  decidedBy: string | null;
}
interface EventPage {
  items: Array<{ type: string; actor: string; detail: Record<string, unknown> }>;
}
type Legacy = { legacyId: string; tag: string; count: number; type?: string; endsAt?: number };

/**
 * Security finding 2: any device could mint unlimited licenses through device-led conversion.
 * Conversion is now off per VA until an admin turns it on, capped per report, per legacy
 * license and per device, and what is over the automatic caps waits for an admin.
 */
describeEachEngine('device-led conversion: off by default, capped, reviewed', (engine) => {
  let t: TestServer;
  let accountId: string;
  let serial = 0;

  beforeAll(async () => {
    t = await startTestServer({ engine, webhookAllowPrivate: true });
    accountId = (await t.admin.createAccount('Mint', 'mint.example.com')).id;
  });
  afterAll(async () => t.dispose());

  const settings = (vaId: string, body: Record<string, unknown>, admin = t.admin) =>
    admin.request('PATCH', `/api/v1/virtual-accounts/${vaId}/conversion-settings`, body);
  const newVa = async () => (await t.admin.createVa(accountId, `VA ${++serial}`)).id;
  const newDevice = async (vaId: string) => {
    const device = t.device('WS-C3850-24T');
    expect((await device.register((await t.admin.createToken(vaId)).token)).status).toBe(200);
    return device;
  };
  const report = (device: SimDevice, licenses: Legacy[]) =>
    device.sendVerified(DEVICE_ROUTES.convert, 'convert', device.sign(device.identified('convert', { licenses })));
  const payloadOf = (answer: { body: unknown }) =>
    (answer.body as { payload: Record<string, unknown> }).payload as {
      deposited: Array<{ tag: string; count: number }>;
      alreadyConverted: boolean;
      licenses: Array<{ legacyId: string; outcome: string }>;
    };
  const many = (prefix: string, n: number, count: number, tag = 'regid.mint'): Legacy[] =>
    Array.from({ length: n }, (_, i) => ({ legacyId: `${prefix}-${i}`, tag, count }));
  const quantity = async (vaId: string) =>
    (await t.admin.listLicenses(vaId)).reduce((sum, license) => sum + license.quantity, 0);
  const conversions = (vaId: string, query = '') =>
    t.admin.ok<Conversion[]>('GET', `/api/v1/virtual-accounts/${vaId}/device-conversions${query}`);
  const events = async (vaId: string, type: string) =>
    (await t.admin.ok<EventPage>('GET', `/api/v1/virtual-accounts/${vaId}/events?type=${type}`)).items;
  const history = async () =>
    (await t.admin.ok<Array<{ vaId: string }>>('GET', `/api/v1/accounts/${accountId}/conversions`)).length;

  it('is off by default: one clear refusal, and nothing recorded but the refusal', async () => {
    const vaId = await newVa();
    const device = await newDevice(vaId);
    expect(await t.admin.ok('GET', `/api/v1/virtual-accounts/${vaId}/conversion-settings`)).toEqual({
      vaId,
      mode: 'off',
      maxLicensesPerReport: 1000,
      autoMaxPerLicense: 100,
      autoMaxPerDevice: 1000,
      updatedAt: null,
    });
    const historyBefore = await history();
    const envelope = device.sign(device.identified('convert', { licenses: many('PAK', 3, 1) }));
    const refused = await device.send(DEVICE_ROUTES.convert, envelope);
    expect(refused.status).toBe(403);
    expect(errorOf(refused)).toMatchObject({
      code: 'CONVERSION_DISABLED',
      message:
        'Device-led conversion is not enabled in this Virtual Account; an administrator of the Virtual Account can enable it.',
    });
    expect(await quantity(vaId)).toBe(0);
    expect(await conversions(vaId)).toEqual([]);
    expect(await history()).toBe(historyBefore);
    const [refusal, ...more] = await events(vaId, 'conversion.device-refused');
    expect(more).toEqual([]);
    expect(refusal).toMatchObject({ actor: `device:${device.instanceId}`, detail: { reason: 'disabled' } });
    expect(await events(vaId, 'conversion.device-requested,conversion.device-led')).toEqual([]);
    // The refusal used the nonce: replaying it records nothing more.
    expect(errorOf(await device.send(DEVICE_ROUTES.convert, envelope)).code).toBe('REPLAYED_NONCE');
    expect(await events(vaId, 'conversion.device-refused')).toHaveLength(1);
  });

  it('refuses the attack (100 legacy ids at 1e9) and caps repeats with new ids', async () => {
    const vaId = await newVa();
    const device = await newDevice(vaId);
    // Off: refused whatever the counts.
    const off = await report(device, many('ATTACK', 100, 100));
    expect(errorOf(off).code).toBe('CONVERSION_DISABLED');

    expect((await settings(vaId, { mode: 'on' })).status).toBe(200);
    // Above the protocol's ceiling: not even a valid message.
    const huge = await report(device, many('ATTACK', 100, 1e9));
    expect(huge.status).toBe(400);
    expect(errorOf(huge).code).toBe('BAD_REQUEST');
    // At the ceiling: over the VA's cap per report, refused whole.
    const capped = await report(device, many('ATTACK', 100, LEGACY_LICENSE_COUNT_MAX));
    expect(capped.status).toBe(403);
    expect(errorOf(capped)).toMatchObject({
      code: 'CONVERSION_LIMIT',
      message:
        'This conversion report asks for 10000000 licenses; the Virtual Account accepts at most 1000 per report.',
    });
    expect(await quantity(vaId)).toBe(0);
    expect(await conversions(vaId)).toEqual([]);
    const refusals = await events(vaId, 'conversion.device-refused');
    expect(refusals.map((e) => e.detail.reason)).toEqual(['over-report-cap', 'disabled']);
    expect(refusals[0]?.detail).toMatchObject({ requested: 10_000_000, limit: 1000 });

    // Under every cap: deposited, up to the device's automatic allowance (1000)…
    const first = await report(device, many('R1', 100, 10));
    expect(payloadOf(first).deposited).toEqual([{ tag: 'regid.mint', count: 1000 }]);
    expect(await quantity(vaId)).toBe(1000);
    // …and repeats with new ids add nothing more: they wait for an admin.
    for (const round of ['R2', 'R3', 'R4']) {
      const again = await report(device, many(round, 100, 10));
      expect(again.status).toBe(200);
      expect(payloadOf(again)).toMatchObject({ deposited: [], alreadyConverted: false });
      expect(new Set(payloadOf(again).licenses.map((l) => l.outcome))).toEqual(new Set(['pending']));
    }
    // Past the per-license cap (100), even a first report of a new device waits.
    const other = await newDevice(vaId);
    const big = await report(other, [{ legacyId: 'BIG', tag: 'regid.mint', count: 101 }]);
    expect(payloadOf(big).licenses).toEqual([expect.objectContaining({ legacyId: 'BIG', outcome: 'pending' })]);
    expect(await quantity(vaId)).toBe(1000);
    const pending = await conversions(vaId, '?status=pending');
    expect(pending).toHaveLength(301);
    expect(new Set(pending.map((c) => c.reason))).toEqual(new Set(['over-device-cap', 'over-license-cap']));
    expect(await conversions(vaId, '?status=approved')).toHaveLength(100);
  });

  it('lets an admin of the VA turn it on, set caps, and approve or reject what waits', async () => {
    const vaId = await newVa();
    const { apiKey: vaAdminKey } = await t.admin.ok<{ apiKey: string }>('POST', '/api/v1/users', {
      email: `va-admin-${serial}@mint.example.com`,
      accountId,
      role: 'admin',
      vaId,
    });
    const { apiKey: vaUserKey } = await t.admin.ok<{ apiKey: string }>('POST', '/api/v1/users', {
      email: `va-user-${serial}@mint.example.com`,
      accountId,
      role: 'user',
      vaId,
    });
    const vaAdmin = new AdminClient(t.url, vaAdminKey);
    const vaUser = new AdminClient(t.url, vaUserKey);

    // A user (not an admin) cannot turn it on; bad settings change nothing.
    expect(errorOf(await settings(vaId, { mode: 'on' }, vaUser)).code).toBe('FORBIDDEN');
    for (const bad of [{}, { mode: 'yes' }, { autoMaxPerLicense: -1 }, { maxLicensesPerReport: 0 }, { other: 1 }]) {
      expect((await settings(vaId, bad, vaAdmin)).status, JSON.stringify(bad)).toBe(400);
    }
    expect(
      (await t.admin.ok<{ mode: string }>('GET', `/api/v1/virtual-accounts/${vaId}/conversion-settings`)).mode,
    ).toBe('off');
    const on = await settings(vaId, { mode: 'on', autoMaxPerLicense: 5, maxLicensesPerReport: 500 }, vaAdmin);
    expect(on.body).toMatchObject({
      mode: 'on',
      autoMaxPerLicense: 5,
      maxLicensesPerReport: 500,
      autoMaxPerDevice: 1000,
    });
    expect((await events(vaId, 'va.conversion-settings'))[0]).toMatchObject({
      actor: `user:va-admin-${serial}@mint.example.com`,
      detail: { mode: 'on', autoMaxPerLicense: 5 },
    });

    // Admins hear of what waits for them through a webhook.
    const hook = await t.admin.ok<{ id: string }>('POST', `/api/v1/accounts/${accountId}/webhooks`, {
      url: 'http://127.0.0.1:9/hook',
      events: ['conversion.device-pending'],
    });
    const device = await newDevice(vaId);
    const answer = await report(device, [
      { legacyId: 'PAK-1:small', tag: 'regid.small', count: 5 },
      { legacyId: 'PAK-1:large', tag: 'regid.large', count: 40 },
      { legacyId: 'PAK-1:term', tag: 'regid.term', count: 50, type: 'term', endsAt: t.clock.now() + 86_400_000 },
    ]);
    expect(payloadOf(answer)).toEqual(
      expect.objectContaining({
        deposited: [{ tag: 'regid.small', count: 5 }],
        alreadyConverted: false,
        licenses: [
          { legacyId: 'PAK-1:small', tag: 'regid.small', count: 5, outcome: 'deposited' },
          { legacyId: 'PAK-1:large', tag: 'regid.large', count: 40, outcome: 'pending' },
          { legacyId: 'PAK-1:term', tag: 'regid.term', count: 50, outcome: 'pending' },
        ],
      }),
    );
    const pending = await conversions(vaId, '?status=pending');
    expect(pending.map((c) => [c.legacyId, c.reason])).toEqual([
      ['PAK-1:large', 'over-license-cap'],
      ['PAK-1:term', 'over-license-cap'],
    ]);
    const [large, term] = pending as [Conversion, Conversion];
    const deliveries = await t.admin.ok<Array<{ eventType: string; status: string }>>(
      'GET',
      `/api/v1/webhooks/${hook.id}/deliveries`,
    );
    expect(deliveries).toEqual([
      expect.objectContaining({ eventType: 'conversion.device-pending', status: 'pending' }),
    ]);
    expect((await events(vaId, 'conversion.device-pending'))[0]?.detail).toMatchObject({
      conversions: [{ id: large.id }, { id: term.id }],
    });

    // Only admins decide.
    expect(errorOf(await vaUser.request('POST', `/api/v1/device-conversions/${large.id}/approve`)).code).toBe(
      'FORBIDDEN',
    );
    t.clock.advance(1000);
    const approved = await vaAdmin.ok<Conversion>('POST', `/api/v1/device-conversions/${large.id}/approve`, {}, 200);
    expect(approved).toMatchObject({ status: 'approved', decidedBy: `user:va-admin-${serial}@mint.example.com` });
    expect(Object.fromEntries((await t.admin.listLicenses(vaId)).map((l) => [l.tag, l.quantity]))).toEqual({
      'regid.small': 5,
      'regid.large': 40,
    });
    const rejected = await vaAdmin.ok<Conversion>(
      'POST',
      `/api/v1/device-conversions/${term.id}/reject`,
      { note: 'not ours' },
      200,
    );
    expect(rejected.status).toBe('rejected');
    expect((await t.admin.listLicenses(vaId)).map((l) => l.tag)).not.toContain('regid.term');
    // Decided once: a second decision is refused and changes nothing.
    for (const [id, action] of [
      [large.id, 'reject'],
      [term.id, 'approve'],
      [large.id, 'approve'],
    ] as const) {
      const again = await vaAdmin.request('POST', `/api/v1/device-conversions/${id}/${action}`);
      expect(again.status).toBe(409);
    }
    expect(await quantity(vaId)).toBe(45);
    expect((await vaAdmin.request('POST', '/api/v1/device-conversions/nope/approve')).status).toBe(404);
    expect((await events(vaId, 'conversion.device-approved'))[0]?.detail).toMatchObject({
      conversionId: large.id,
      count: 40,
    });
    expect((await events(vaId, 'conversion.device-rejected'))[0]?.detail).toMatchObject({
      conversionId: term.id,
      note: 'not ours',
    });
    // The history records the approval as the admin's.
    const rows = await t.admin.ok<Array<{ legacyId: string; actor: string; vaId: string }>>(
      'GET',
      `/api/v1/accounts/${accountId}/conversions`,
    );
    expect(rows.filter((r) => r.vaId === vaId).map((r) => [r.legacyId, r.actor])).toEqual([
      ['PAK-1:small', `device:${device.instanceId}`],
      ['PAK-1:large', `user:va-admin-${serial}@mint.example.com`],
    ]);

    // A rejected license reported again stays rejected: nothing waits, nothing is deposited.
    t.clock.advance(1000);
    const again = await report(device, [{ legacyId: 'PAK-1:term', tag: 'regid.term', count: 1 }]);
    expect(payloadOf(again)).toMatchObject({ alreadyConverted: true, deposited: [] });
    expect(await conversions(vaId, '?status=pending')).toEqual([]);

    // Review mode: every new license waits, however small.
    await settings(vaId, { mode: 'review' }, vaAdmin);
    const reviewed = await report(device, [{ legacyId: 'PAK-2:one', tag: 'regid.small', count: 1 }]);
    expect(payloadOf(reviewed).licenses[0]?.outcome).toBe('pending');
    expect((await conversions(vaId, '?status=pending')).map((c) => c.reason)).toEqual(['review']);
    // Off again: refused.
    await settings(vaId, { mode: 'off' }, vaAdmin);
    expect(errorOf(await report(device, [{ legacyId: 'PAK-3', tag: 'regid.small', count: 1 }])).code).toBe(
      'CONVERSION_DISABLED',
    );
    expect(await quantity(vaId)).toBe(45);
  });
});
