import { DAY } from '@smartlic/protocol';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachEngine } from '../../test-support/postgres.js';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';

const GENERIC = 'C9500 Network Advantage';
const SPECIFIC = 'C9500 32C NW Advantage';
const TAG = 'regid.2026-01.com.example.A';

function eventsOnDisk(t: TestServer, vaId: string): Promise<Array<{ type: string; actor: string; detail: string }>> {
  // Event ids sort in the order the events were recorded.
  return t.inspect((db) =>
    db
      .selectFrom('events')
      .select(['type', 'actor', 'detail'])
      .where('va_id', '=', vaId)
      .orderBy('at')
      .orderBy('id')
      .execute(),
  );
}

describeEachEngine('license hierarchy, lifecycle and reports (real HTTP, real database)', (engine) => {
  let t: TestServer;
  beforeEach(async () => {
    t = await startTestServer({ engine });
  });
  afterEach(async () => {
    await t.dispose();
  });

  it('5 of C9500 Network Advantage serve 5 devices asking for C9500 32C NW Advantage; a sixth is out of compliance', async () => {
    const { vaId } = await t.admin.setupVa();
    await t.admin.ok('POST', '/api/v1/tags', { tag: SPECIFIC, parent: GENERIC }, 200);
    await t.admin.addLicense(vaId, { tag: GENERIC, count: 5 });
    const token = (await t.admin.createToken(vaId)).token;
    const statuses: string[] = [];
    for (let i = 0; i < 6; i++) {
      const device = t.device();
      expect((await device.register(token)).status).toBe(200);
      const answer = await device.authorize([{ tag: SPECIFIC, count: 1 }]);
      expect(answer.status).toBe(200);
      statuses.push((answer.body as { payload: { status: string } }).payload.status);
    }
    expect(statuses).toEqual([...Array(5).fill('InCompliance'), 'OutOfCompliance']);
    const rows = await t.admin.licenseDetails(vaId);
    expect(rows.find((r) => r.tag === SPECIFIC)).toMatchObject({
      quantity: 0,
      inUse: 6,
      parent: GENERIC,
      coveredByOwn: 0,
      coveredBy: [{ tag: GENERIC, count: 5 }],
      surplus: -1,
      alerts: ['Insufficient Licenses'],
    });
    expect(rows.find((r) => r.tag === GENERIC)).toMatchObject({
      quantity: 5,
      inUse: 0,
      lentToChildren: 5,
      surplus: 0,
      alerts: [],
    });

    // A cycle is refused.
    const cycle = await t.admin.request('POST', '/api/v1/tags', { tag: GENERIC, parent: SPECIFIC });
    expect(cycle.status).toBe(400);
    // The licenses report shows which pool covers what, as CSV too.
    const csv = await fetch(`${t.url}/api/v1/virtual-accounts/${vaId}/reports/licenses?format=csv`, {
      headers: { authorization: `Bearer ${t.admin.apiKey}` },
    });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await csv.text()).split('\r\n');
    expect(lines[0]).toBe(
      'tag,name,parent,quantity,inUse,coveredByOwn,coveredBy,lentToChildren,surplus,expiresAt,alerts',
    );
    expect(lines).toContain(`${SPECIFIC},${SPECIFIC},${GENERIC},0,6,0,${GENERIC}:5,0,-1,,Insufficient Licenses`);
  });

  it('term pools raise 90/60/30-day alerts and stop counting at their end; the expiry job logs it once', async () => {
    const { vaId } = await t.admin.setupVa();
    const ends = new Date(t.clock.now() + 45 * DAY).toISOString();
    await t.admin.addLicense(vaId, { tag: TAG, count: 3, type: 'term', endsAt: ends });
    expect((await t.admin.licenseDetails(vaId))[0]).toMatchObject({
      quantity: 3,
      alerts: ['Expiring in 60 days'],
      expiresAt: ends,
    });
    t.clock.advance(20 * DAY);
    expect((await t.admin.listLicenses(vaId))[0]?.alerts).toEqual(['Expiring in 30 days']);
    await Promise.all([
      t.admin.ok('POST', '/api/v1/jobs/run', undefined, 200),
      t.admin.ok('POST', '/api/v1/jobs/run', undefined, 200),
    ]);
    t.clock.advance(26 * DAY);
    expect((await t.admin.listLicenses(vaId))[0]).toMatchObject({ quantity: 0, surplus: 0, alerts: [] });
    await Promise.all([
      t.admin.ok('POST', '/api/v1/jobs/run', undefined, 200),
      t.admin.ok('POST', '/api/v1/jobs/run', undefined, 200),
    ]);
    const types = (await eventsOnDisk(t, vaId)).map((e) => e.type);
    expect(types.filter((x) => x === 'license.expiring')).toHaveLength(1);
    expect(types.filter((x) => x === 'license.expired')).toHaveLength(1);
  });

  it('transfers unused licenses between VAs of one Smart Account, atomically, logged on both sides', async () => {
    const { accountId, vaId } = await t.admin.setupVa();
    const other = await t.admin.createVa(accountId, 'Other');
    const stranger = await t.admin.setupVa('Stranger');
    await t.admin.addLicense(vaId, { tag: TAG, count: 5 });
    const device = t.device();
    await device.register((await t.admin.createToken(vaId)).token);
    await device.authorize([{ tag: TAG, count: 2 }]);
    const path = `/api/v1/virtual-accounts/${vaId}/licenses/transfer`;
    expect((await t.admin.request('POST', path, { tag: TAG, count: 4, toVaId: other.id })).status).toBe(409);
    expect((await t.admin.request('POST', path, { tag: TAG, count: 1, toVaId: stranger.vaId })).status).toBe(400);
    await t.admin.ok('POST', path, { tag: TAG, count: 3, toVaId: other.id }, 200);
    expect((await t.admin.listLicenses(vaId))[0]).toMatchObject({ quantity: 2, inUse: 2, surplus: 0 });
    expect((await t.admin.listLicenses(other.id))[0]).toMatchObject({ quantity: 3, inUse: 0, surplus: 3 });
    expect((await eventsOnDisk(t, vaId)).filter((e) => e.type === 'license.transferred')).toHaveLength(1);
    expect((await eventsOnDisk(t, other.id)).filter((e) => e.type === 'license.transferred')).toHaveLength(1);
  });

  it('a transfer moves only what the hierarchy leaves free: a parent lending to a child keeps what it lends', async () => {
    const { accountId, vaId } = await t.admin.setupVa();
    const other = await t.admin.createVa(accountId, 'Other');
    await t.admin.ok('POST', '/api/v1/tags', { tag: SPECIFIC, parent: GENERIC }, 200);
    await t.admin.addLicense(vaId, { tag: GENERIC, count: 5 });
    const device = t.device();
    await device.register((await t.admin.createToken(vaId)).token);
    const statusOf = async () =>
      ((await device.authorize([{ tag: SPECIFIC, count: 3 }])).body as { payload: { status: string } }).payload.status;
    expect(await statusOf()).toBe('InCompliance');
    const path = `/api/v1/virtual-accounts/${vaId}/licenses/transfer`;

    const refused = await t.admin.request('POST', path, { tag: GENERIC, count: 3, toVaId: other.id });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      code: 'CONFLICT',
      message: `Only 2 unused license(s) of ${GENERIC} can be transferred: 5 in the pool, 3 covering usage of ${SPECIFIC}, 2 can be transferred.`,
    });
    expect((await t.admin.licenseDetails(vaId)).find((r) => r.tag === GENERIC)).toMatchObject({ quantity: 5 });

    await t.admin.ok('POST', path, { tag: GENERIC, count: 2, toVaId: other.id }, 200);
    const rows = await t.admin.licenseDetails(vaId);
    expect(rows.find((r) => r.tag === GENERIC)).toMatchObject({ quantity: 3, lentToChildren: 3, surplus: 0 });
    expect(rows.find((r) => r.tag === SPECIFIC)).toMatchObject({ coveredBy: [{ tag: GENERIC, count: 3 }], alerts: [] });
    expect(await statusOf()).toBe('InCompliance');
    // Nothing is left to move.
    expect((await t.admin.request('POST', path, { tag: GENERIC, count: 1, toVaId: other.id })).status).toBe(409);
  });

  it('without usage under it, a parent pool can be transferred whole', async () => {
    const { accountId, vaId } = await t.admin.setupVa();
    const other = await t.admin.createVa(accountId, 'Other');
    await t.admin.ok('POST', '/api/v1/tags', { tag: SPECIFIC, parent: GENERIC }, 200);
    await t.admin.addLicense(vaId, { tag: GENERIC, count: 5 });
    const path = `/api/v1/virtual-accounts/${vaId}/licenses/transfer`;
    await t.admin.ok('POST', path, { tag: GENERIC, count: 5, toVaId: other.id }, 200);
    expect((await t.admin.listLicenses(other.id))[0]).toMatchObject({ tag: GENERIC, quantity: 5, surplus: 5 });
  });

  it('lists instances with search and paging, transfers one with its usage, removes another', async () => {
    const { accountId, vaId } = await t.admin.setupVa();
    const other = await t.admin.createVa(accountId, 'Other');
    await t.admin.addLicense(vaId, { tag: TAG, count: 10 });
    const token = (await t.admin.createToken(vaId)).token;
    const devices = [
      t.device('C9300-24UX', 'FOC0001'),
      t.device('C9300-24UX', 'FOC0002'),
      t.device('ISR4451', 'FDO0003'),
    ];
    for (const d of devices) {
      await d.register(token);
      await d.authorize([{ tag: TAG, count: 2 }]);
    }
    const base = `/api/v1/virtual-accounts/${vaId}/instances`;
    expect((await t.admin.ok<unknown[]>('GET', `${base}?search=foc`)).length).toBe(2);
    const first = await t.admin.ok<{ items: Array<{ id: string }>; nextCursor: string }>('GET', `${base}?limit=2`);
    expect(first.items).toHaveLength(2);
    const second = await t.admin.ok<{ items: Array<{ id: string }>; nextCursor: string | null }>(
      'GET',
      `${base}?limit=2&cursor=${first.nextCursor}`,
    );
    expect(second).toMatchObject({ items: [{ id: devices[2]!.instanceId }], nextCursor: null });

    await t.admin.ok('POST', `/api/v1/instances/${devices[0]!.instanceId}/transfer`, { toVaId: other.id }, 200);
    expect((await t.admin.listLicenses(vaId))[0]).toMatchObject({ inUse: 4 });
    expect((await t.admin.listLicenses(other.id))[0]).toMatchObject({ tag: TAG, quantity: 0, inUse: 2 });
    // The moved device keeps working, now against its new VA.
    await devices[0]!.authorize([{ tag: TAG, count: 3 }]);
    expect((await t.admin.listLicenses(other.id))[0]).toMatchObject({ inUse: 3 });
    expect((await t.admin.listLicenses(vaId))[0]).toMatchObject({ inUse: 4 });

    await t.admin.ok('DELETE', `/api/v1/instances/${devices[1]!.instanceId}`, undefined, 200);
    expect((await t.admin.listLicenses(vaId))[0]).toMatchObject({ inUse: 2 });
    expect((await devices[1]!.authorize([{ tag: TAG, count: 1 }])).status).toBe(404);
    const types = (await eventsOnDisk(t, vaId)).map((e) => e.type);
    expect(types).toContain('instance.transferred');
    expect(types).toContain('instance.removed');
  });

  it('jobs: silent 30 days → alert, 90 → usage released, 365 → removed; two runs at once do it once', async () => {
    const { vaId } = await t.admin.setupVa();
    await t.admin.addLicense(vaId, { tag: TAG, count: 10 });
    const token = (await t.admin.createToken(vaId)).token;
    const silent = t.device();
    await silent.register(token);
    await silent.authorize([{ tag: TAG, count: 4 }]);
    const runTwice = () =>
      Promise.all([
        t.admin.ok('POST', '/api/v1/jobs/run', undefined, 200),
        t.admin.ok('POST', '/api/v1/jobs/run', undefined, 200),
      ]);

    t.clock.advance(31 * DAY);
    await runTwice();
    expect((await t.admin.listInstances(vaId))[0]).toMatchObject({ alerts: ['No contact for 30 days'] });
    expect((await t.admin.listLicenses(vaId))[0]).toMatchObject({ inUse: 4 });
    t.clock.advance(60 * DAY);
    await runTwice();
    expect((await t.admin.listLicenses(vaId))[0]).toMatchObject({ inUse: 0, surplus: 10 });
    t.clock.advance(275 * DAY);
    await runTwice();
    expect(await t.admin.listInstances(vaId)).toEqual([]);
    const types = (await eventsOnDisk(t, vaId)).map((e) => e.type);
    for (const type of ['instance.silent', 'instance.usage-released', 'instance.removed', 'token.expired']) {
      expect(
        types.filter((x) => x === type),
        type,
      ).toHaveLength(1);
    }

    // Daily snapshots feed the usage report.
    const usage = await t.admin.ok<Array<{ day: string; tag: string; inUse: number }>>(
      'GET',
      `/api/v1/virtual-accounts/${vaId}/reports/usage`,
    );
    expect(usage.map((u) => u.inUse)).toEqual([4, 0, 0]);
    const from = usage[1]!.day;
    expect(
      await t.admin.ok<unknown[]>('GET', `/api/v1/virtual-accounts/${vaId}/reports/usage?from=${from}`),
    ).toHaveLength(2);
  });
});
