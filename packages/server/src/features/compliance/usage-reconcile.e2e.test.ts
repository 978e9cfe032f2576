import { afterAll, beforeAll, expect, it } from 'vitest';
import { AdminClient } from '../../test-support/admin-client.js';
import { describeEachEngine } from '../../test-support/postgres.js';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';

const TAG = 'regid.2014-08.com.example.A';
type Events = { items: Array<{ type: string; actor: string; detail: Record<string, unknown> }> };

/** `POST …/usage/reconcile`: the on-demand repair of the maintained usage totals (ADR 0011). */
describeEachEngine('usage reconcile', (engine) => {
  let t: TestServer;
  let accountId: string;
  let vaId: string;
  let otherVaId: string;

  beforeAll(async () => {
    t = await startTestServer({ engine });
    ({ accountId, vaId } = await t.admin.setupVa('Acme'));
    otherVaId = (await t.admin.createVa(accountId, 'Prod')).id;
    await t.admin.addLicense(vaId, { tag: TAG, count: 10 });
    const token = await t.admin.createToken(vaId);
    for (const count of [2, 3]) {
      const device = t.device();
      expect((await device.register(token.token)).status).toBe(200);
      expect((await device.authorize([{ tag: TAG, count }])).status).toBe(200);
    }
  });
  afterAll(() => t.dispose());

  const inUse = async () => (await t.admin.listLicenses(vaId)).find((l) => l.tag === TAG)?.inUse;

  it('finds nothing to repair while the totals follow the usage', async () => {
    expect(await inUse()).toBe(5);
    expect(await t.admin.ok('POST', '/api/v1/usage/reconcile', undefined, 200)).toEqual({ vas: 2, corrected: 0 });
  });

  it("repairs a VA's corrupted total and missing reported names, and records it", async () => {
    await t.inspect(async (db) => {
      await db.updateTable('va_usage').set({ in_use: 42 }).where('va_id', '=', vaId).execute();
      await db.insertInto('va_usage').values({ va_id: otherVaId, tag: TAG, in_use: 7 }).execute();
    });
    expect(await inUse()).toBe(42);

    const one = await t.admin.ok('POST', `/api/v1/virtual-accounts/${vaId}/usage/reconcile`, undefined, 200);
    expect(one).toEqual({ vas: 1, corrected: 1 });
    expect(await inUse()).toBe(5);
    // The other VA's ghost total is left to a reconcile of that VA (or of all).
    const ghost = () =>
      t.inspect((db) => db.selectFrom('va_usage').select('in_use').where('va_id', '=', otherVaId).execute());
    expect(await ghost()).toEqual([{ in_use: 7 }]);

    expect(await t.admin.ok('POST', '/api/v1/usage/reconcile', undefined, 200)).toEqual({ vas: 2, corrected: 1 });
    expect(await ghost()).toEqual([]);

    const vaEvents = await t.admin.ok<Events>('GET', `/api/v1/virtual-accounts/${vaId}/events?type=usage.reconciled`);
    expect(vaEvents.items).toMatchObject([{ type: 'usage.reconciled', detail: { vas: 1, corrected: 1 } }]);
    const system = await t.admin.ok<Events>('GET', '/api/v1/events?type=usage.reconciled');
    expect(system.items.map((e) => e.detail)).toContainEqual({ vas: 2, corrected: 1 });
  });

  it('is for the owner key (every VA) and admins of the VA (one VA) only', async () => {
    const user = async (email: string, role: string) => {
      const made = await t.admin.ok<{ apiKey: string }>('POST', '/api/v1/users', { email, accountId, vaId, role });
      return new AdminClient(t.url, made.apiKey);
    };
    const vaAdmin = await user('admin@acme.example', 'admin');
    const vaUser = await user('user@acme.example', 'user');
    expect(await vaAdmin.ok('POST', `/api/v1/virtual-accounts/${vaId}/usage/reconcile`, undefined, 200)).toEqual({
      vas: 1,
      corrected: 0,
    });
    expect((await vaAdmin.request('POST', '/api/v1/usage/reconcile')).status).toBe(403);
    expect((await vaAdmin.request('POST', `/api/v1/virtual-accounts/${otherVaId}/usage/reconcile`)).status).toBe(404);
    const refused = await vaUser.request<{ code: string }>('POST', `/api/v1/virtual-accounts/${vaId}/usage/reconcile`);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('FORBIDDEN');
    expect((await t.admin.request('POST', '/api/v1/virtual-accounts/nope/usage/reconcile')).status).toBe(404);
  });
});
