import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../../test-support/postgres.js';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';

interface Event {
  id: string;
  at: string;
  actor: string;
  type: string;
  accountId: string | null;
  vaId: string | null;
  detail: Record<string, unknown>;
}
interface Page {
  items: Event[];
  nextCursor: string | null;
}

/** Issue 4 item 5: every change of SPEC §2's list is in the event log, with who, what and when. */
describeEachEngine('event log', (engine) => {
  let t: TestServer;
  let accountId: string;
  let vaId: string;
  const events = (query = '') => t.admin.ok<Page>('GET', `/api/v1/virtual-accounts/${vaId}/events${query}`);
  const types = async (query = '') => (await events(query)).items.map((e) => e.type).reverse();

  beforeAll(async () => {
    t = await startTestServer({ engine });
    accountId = (await t.admin.createAccount('Acme')).id;
    t.clock.advance(1000);
    vaId = (await t.admin.createVa(accountId, 'Lab')).id;
  });
  afterAll(() => t.dispose());

  it('records the admin changes with the acting key', async () => {
    t.clock.advance(1000);
    await t.admin.addLicense(vaId, { tag: 'T', count: 2 });
    t.clock.advance(1000);
    const token = await t.admin.createToken(vaId, { description: 'lab switches' });
    t.clock.advance(1000);
    await t.admin.ok('POST', `/api/v1/tokens/${token.id}/revoke`, undefined, 200);
    const page = await events();
    expect(page.items.map((e) => e.type)).toEqual(['token.revoked', 'token.created', 'license.added', 'va.created']);
    expect(
      page.items.every((e) => e.actor === 'key:bootstrap admin' && e.vaId === vaId && e.accountId === accountId),
    ).toBe(true);
    expect(page.items[2]).toMatchObject({
      at: new Date(t.clock.now() - 2000).toISOString(),
      detail: { tag: 'T', quantity: 2 },
    });
    const account = await t.admin.ok<Page>('GET', `/api/v1/accounts/${accountId}/events?type=account.created`);
    expect(account.items).toMatchObject([{ type: 'account.created', detail: { name: 'Acme' } }]);
  });

  it('records device changes only when something changed', async () => {
    const token = await t.admin.createToken(vaId);
    const device = t.device();
    t.clock.advance(1000);
    expect((await device.register(token.token)).status).toBe(200);
    const instanceId = (await events('?type=instance.registered')).items[0]!.detail.instanceId as string;
    const since = new Date(t.clock.now()).toISOString();
    t.clock.advance(1000);
    await device.authorize([{ tag: 'T', count: 1 }]);
    t.clock.advance(1000);
    await device.authorize([{ tag: 'T', count: 1 }]); // unchanged: nothing recorded
    t.clock.advance(1000);
    await device.authorize([{ tag: 'T', count: 3 }]); // a shortage: usage and compliance change
    t.clock.advance(1000);
    await device.authorize([{ tag: 'T', count: 3 }]);
    t.clock.advance(1000);
    await device.renewId();
    t.clock.advance(1000);
    await device.deregister();
    expect(await types(`?since=${since}`)).toEqual([
      'token.used',
      'instance.registered',
      'instance.usage-changed',
      'instance.usage-changed',
      'instance.compliance-changed',
      'instance.renewed',
      'instance.deregistered',
    ]);
    const page = await events(`?since=${since}&type=instance.usage-changed,instance.compliance-changed`);
    expect(page.items.map((e) => e.detail)).toEqual([
      { instanceId, from: 'InCompliance', to: 'OutOfCompliance' },
      { instanceId, before: [{ tag: 'T', count: 1 }], after: [{ tag: 'T', count: 3 }] },
      { instanceId, before: [], after: [{ tag: 'T', count: 1 }] },
    ]);
    expect(new Set(page.items.map((e) => e.actor))).toEqual(new Set([`device:${instanceId}`]));
    const inAccount = await t.admin.ok<Page>(
      'GET',
      `/api/v1/accounts/${accountId}/events?type=instance.deregistered&actor=device:${instanceId}`,
    );
    expect(inAccount.items).toHaveLength(1);
  });

  it('pages newest first by a cursor, and filters by time and actor', async () => {
    const all = (await events('?limit=500')).items;
    const seen: Event[] = [];
    let cursor: string | null = null;
    do {
      const page: Page = await events(`?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.map((e) => e.id)).toEqual(all.map((e) => e.id));
    const until = all.at(-1)!.at;
    expect((await events(`?until=${until}`)).items).toEqual([]);
    expect((await events('?actor=nobody')).items).toEqual([]);
  });

  it('refuses bad filters and unknown places clearly', async () => {
    const bad = await t.admin.request<{ code: string; fields: Record<string, string[]> }>(
      'GET',
      `/api/v1/virtual-accounts/${vaId}/events?since=yesterday&limit=0&cursor=nonsense`,
    );
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.fields).sort()).toEqual(['limit', 'since']);
    const cursor = await t.admin.request('GET', `/api/v1/virtual-accounts/${vaId}/events?cursor=bm9wZQ`);
    expect(cursor.status).toBe(400);
    expect((await t.admin.request('GET', '/api/v1/virtual-accounts/nope/events')).status).toBe(404);
  });
});
