import { DAY } from '@smartlic/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../../test-support/postgres.js';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';
import type { TagForecast, UsageHistory } from './forecast-service.js';

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describeEachEngine('usage history and compliance forecast', (engine) => {
  let t: TestServer;
  let vaId: string;

  beforeAll(async () => {
    t = await startTestServer({ engine });
    vaId = (await t.admin.setupVa('Acme')).vaId;
    await t.admin.addLicense(vaId, { tag: 'regid.rising', count: 10, name: 'Rising pool' });
    await t.admin.addLicense(vaId, { tag: 'regid.flat', count: 5 });
    const token = (await t.admin.createToken(vaId, { maxUses: 100 })).token;
    // One more device in use each day, for eight days, each day's snapshot taken by the jobs.
    for (let i = 0; i < 8; i++) {
      const device = t.device();
      expect((await device.register(token)).status).toBe(200);
      expect((await device.authorize([{ tag: 'regid.rising', count: 1 }])).status).toBe(200);
      await t.admin.ok('POST', '/api/v1/jobs/run', {}, 200);
      t.clock.advance(DAY);
    }
    // Used without a pool: already short.
    const unpooled = t.device();
    await unpooled.register(token);
    await unpooled.authorize([{ tag: 'regid.unpooled', count: 1 }]);
  });
  afterAll(() => t.dispose());

  it('projects the rising pool, leaves the flat one without a date, and says today for the short one', async () => {
    const today = day(t.clock.now());
    const rows = await t.admin.ok<TagForecast[]>('GET', `/api/v1/vas/${vaId}/forecast`);
    const byTag = new Map(rows.map((r) => [r.tag, r]));
    // In use 1…8 over eight days: one a day; 2 free today, so short on the third day from now.
    expect(byTag.get('regid.rising')).toEqual({
      tag: 'regid.rising',
      name: 'Rising pool',
      quantity: 10,
      inUse: 8,
      trendPerDay: 1,
      shortageDate: day(t.clock.now() + 3 * DAY),
      basis: '8 days of snapshots',
    });
    expect(byTag.get('regid.flat')).toMatchObject({ quantity: 5, inUse: 0, trendPerDay: 0, shortageDate: null });
    expect(byTag.get('regid.unpooled')).toMatchObject({ quantity: 0, inUse: 1, shortageDate: today });
  });

  it('answers the usage history of the last N days from the snapshots', async () => {
    const rows = await t.admin.ok<UsageHistory[]>('GET', `/api/v1/vas/${vaId}/usage-history?days=5`);
    const rising = rows.find((r) => r.tag === 'regid.rising');
    expect(rising?.name).toBe('Rising pool');
    // Today has no snapshot yet: the four days before it.
    expect(rising?.points.map((p) => p.inUse)).toEqual([5, 6, 7, 8]);
    expect(rising?.points.every((p) => p.quantity === 10)).toBe(true);
    expect(rising?.points.at(-1)?.day).toBe(day(t.clock.now() - DAY));
    const all = await t.admin.ok<UsageHistory[]>('GET', `/api/v1/vas/${vaId}/usage-history`);
    expect(all.find((r) => r.tag === 'regid.rising')?.points).toHaveLength(8);
  });

  it('refuses a bad day count and an unknown VA, each with one message', async () => {
    for (const days of ['0', '400', 'x']) {
      const answer = await t.admin.request<{ code: string }>('GET', `/api/v1/vas/${vaId}/usage-history?days=${days}`);
      expect(answer.status).toBe(400);
      expect(answer.body.code).toBe('BAD_REQUEST');
    }
    expect((await t.admin.request('GET', '/api/v1/vas/no-such-va/forecast')).status).toBe(404);
  });
});
