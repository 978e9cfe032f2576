import type { Envelope } from '@smartlic/protocol';
import { DAY, HOUR, MINUTE } from '@smartlic/protocol';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachEngine } from '../../test-support/postgres.js';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';

const TAG_A = 'regid.2014-08.com.example.A';

type AuthorizePayload = {
  status: string;
  entitlements: Array<{ tag: string; requested: number; status: string; displayName?: string }>;
  authorizedAt: number;
  expiresAt: number;
  renewIntervalMs: number;
  retryIntervalMs: number;
};

function payloadOf<T>(body: unknown): T {
  return (body as Envelope<T>).payload;
}

describeEachEngine('device flow over HTTP', (engine) => {
  let t: TestServer;
  beforeEach(async () => {
    t = await startTestServer({ engine });
  });
  afterEach(async () => {
    await t.dispose();
  });

  it('registers devices, reports compliance and shows it in the license list', async () => {
    const { vaId, accountId, domain } = await t.admin.setupVa('Acme Corp');
    await t.admin.addLicense(vaId, { tag: TAG_A, count: 10, name: 'Product A' });
    const token = await t.admin.createToken(vaId, { description: 'lab', exportControlled: true });

    const d1 = t.device();
    const d2 = t.device();
    const reg = await d1.register(token.token, { hostname: 'sw1' });
    expect(reg.status).toBe(200);
    const registered = payloadOf<Record<string, unknown>>(reg.body);
    expect(registered).toMatchObject({
      type: 'register-response',
      smartAccount: { id: accountId, name: 'Acme Corp', domain },
      virtualAccount: { id: vaId, name: 'Lab' },
      exportControlled: true,
      renewIntervalMs: 180 * DAY,
      idCertExpiresAt: t.clock.now() + 360 * DAY,
    });
    expect((await d2.register(token.token)).status).toBe(200);

    for (const d of [d1, d2]) {
      const answer = await d.authorize([{ tag: TAG_A, count: 4 }]);
      expect(answer.status).toBe(200);
      const p = payloadOf<AuthorizePayload>(answer.body);
      expect(p.status).toBe('InCompliance');
      expect(p.entitlements).toEqual([{ tag: TAG_A, requested: 4, status: 'InCompliance', displayName: 'Product A' }]);
      expect(p.authorizedAt).toBe(t.clock.now());
      expect(p.expiresAt).toBe(t.clock.now() + 90 * DAY);
      expect(p.renewIntervalMs).toBe(30 * DAY);
      expect(p.retryIntervalMs).toBe(23 * HOUR);
    }
    expect(await t.admin.listLicenses(vaId)).toEqual([
      { tag: TAG_A, name: 'Product A', quantity: 10, inUse: 8, surplus: 2, alerts: [] },
    ]);

    const d3 = t.device();
    expect((await d3.register(token.token)).status).toBe(200);
    const ooc = payloadOf<AuthorizePayload>((await d3.authorize([{ tag: TAG_A, count: 4 }])).body);
    expect(ooc.status).toBe('OutOfCompliance');
    expect(ooc.entitlements[0]?.status).toBe('OutOfCompliance');
    expect(ooc.retryIntervalMs).toBe(15 * MINUTE);
    expect(await t.admin.listLicenses(vaId)).toEqual([
      { tag: TAG_A, name: 'Product A', quantity: 10, inUse: 12, surplus: -2, alerts: ['Insufficient Licenses'] },
    ]);
    const instances = await t.admin.listInstances(vaId);
    expect(instances.map((i) => i.status)).toEqual(['OutOfCompliance', 'OutOfCompliance', 'OutOfCompliance']);
    expect(instances.find((i) => i.sn === d1.udi.sn)).toMatchObject({
      pid: d1.udi.pid,
      sn: d1.udi.sn,
      hostname: 'sw1',
      usage: [{ tag: TAG_A, count: 4 }],
    });

    await t.admin.addLicense(vaId, { tag: TAG_A, count: 2 });
    const fixed = payloadOf<AuthorizePayload>((await d3.authorize([{ tag: TAG_A, count: 4 }])).body);
    expect(fixed.status).toBe('InCompliance');
    expect(await t.admin.listLicenses(vaId)).toEqual([
      { tag: TAG_A, name: 'Product A', quantity: 12, inUse: 12, surplus: 0, alerts: [] },
    ]);
    expect((await t.admin.listInstances(vaId)).every((i) => i.status === 'InCompliance')).toBe(true);
  });

  it('counts zero as not in use, adds a tag named twice, and reports tags without licenses', async () => {
    const { vaId } = await t.admin.setupVa();
    await t.admin.addLicense(vaId, { tag: TAG_A, count: 5 });
    const token = await t.admin.createToken(vaId);
    const d = t.device();
    await d.register(token.token);

    const answer = await d.authorize([
      { tag: TAG_A, count: 2 },
      { tag: TAG_A, count: 1 },
      { tag: 'B', count: 0 },
      { tag: 'C', count: 1, displayName: 'Feature C' },
    ]);
    const p = payloadOf<AuthorizePayload>(answer.body);
    expect(p.status).toBe('OutOfCompliance');
    expect(p.entitlements).toEqual([
      { tag: TAG_A, requested: 3, status: 'InCompliance' },
      { tag: 'B', requested: 0, status: 'InCompliance' },
      { tag: 'C', requested: 1, status: 'OutOfCompliance', displayName: 'Feature C' },
    ]);
    expect(await t.admin.listLicenses(vaId)).toEqual([
      { tag: 'C', name: 'Feature C', quantity: 0, inUse: 1, surplus: -1, alerts: ['Insufficient Licenses'] },
      { tag: TAG_A, name: TAG_A, quantity: 5, inUse: 3, surplus: 2, alerts: [] },
    ]);
    const [instance] = await t.admin.listInstances(vaId);
    expect(instance?.usage).toEqual([
      { tag: 'C', count: 1 },
      { tag: TAG_A, count: 3 },
    ]);

    // Releasing everything: the instance uses nothing.
    const none = payloadOf<AuthorizePayload>((await d.authorize([])).body);
    expect(none).toMatchObject({ status: 'InCompliance', entitlements: [] });
    expect((await t.admin.listInstances(vaId))[0]).toMatchObject({ usage: [], status: 'NoUsage' });
    expect(await t.admin.listLicenses(vaId)).toEqual([
      { tag: TAG_A, name: TAG_A, quantity: 5, inUse: 0, surplus: 5, alerts: [] },
    ]);
  });

  it('judges term licenses with the clock: an expired subscription no longer counts', async () => {
    const { vaId } = await t.admin.setupVa();
    const endsAt = new Date(t.clock.now() + 10 * DAY).toISOString();
    await t.admin.addLicense(vaId, { tag: TAG_A, count: 5, type: 'subscription', endsAt });
    const token = await t.admin.createToken(vaId, { days: 365 });
    const d = t.device();
    await d.register(token.token);
    expect(payloadOf<AuthorizePayload>((await d.authorize([{ tag: TAG_A, count: 1 }])).body).status).toBe(
      'InCompliance',
    );
    t.clock.advance(11 * DAY);
    expect(payloadOf<AuthorizePayload>((await d.authorize([{ tag: TAG_A, count: 1 }])).body).status).toBe(
      'OutOfCompliance',
    );
    expect(await t.admin.listLicenses(vaId)).toEqual([
      { tag: TAG_A, name: TAG_A, quantity: 0, inUse: 1, surplus: -1, alerts: ['Insufficient Licenses'] },
    ]);
  });

  it('keeps VAs apart: usage in one VA does not consume another VA’s licenses', async () => {
    const a = await t.admin.setupVa('Alpha');
    const b = await t.admin.setupVa('Beta');
    await t.admin.addLicense(a.vaId, { tag: TAG_A, count: 1 });
    await t.admin.addLicense(b.vaId, { tag: TAG_A, count: 1 });
    const da = t.device();
    const db = t.device();
    await da.register((await t.admin.createToken(a.vaId)).token);
    await db.register((await t.admin.createToken(b.vaId)).token);
    expect(payloadOf<AuthorizePayload>((await da.authorize([{ tag: TAG_A, count: 1 }])).body).status).toBe(
      'InCompliance',
    );
    expect(payloadOf<AuthorizePayload>((await db.authorize([{ tag: TAG_A, count: 1 }])).body).status).toBe(
      'InCompliance',
    );
  });

  it('registers a device whose key is Ed25519', async () => {
    const { vaId } = await t.admin.setupVa();
    const token = await t.admin.createToken(vaId);
    const d = t.device('ED-1', 'SN-ED', 'Ed25519');
    expect((await d.register(token.token)).status).toBe(200);
    expect((await d.authorize([{ tag: TAG_A, count: 1 }])).status).toBe(200);
  });
});
