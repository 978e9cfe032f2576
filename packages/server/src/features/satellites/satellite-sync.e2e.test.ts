import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DAY, ManualClock } from '@smartlic/protocol';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { AdminClient } from '../../test-support/admin-client.js';
import { sendJson } from '../../test-support/http.js';
import { describeEachEngine } from '../../test-support/postgres.js';
import { SimDevice } from '../../test-support/sim-device.js';
import { startTestApp, type TestApp } from '../../test-support/test-app.js';
import type { InstanceTable } from './instance-table.js';
import type { SyncDocument } from './sync-format.js';

const TAG = 'regid.2014-08.com.example.Site';

describeEachEngine('satellite sync (authority and satellite in-process)', (engine) => {
  let clock: ManualClock;
  let authority: TestApp;
  let sat: TestApp;
  let a: AdminClient;
  let s: AdminClient;
  let accountId: string;
  let vaId: string;
  let satelliteId: string;
  const apps: TestApp[] = [];

  async function startSatellite(): Promise<TestApp> {
    const app = await startTestApp({ engine, clock, satellite: true });
    apps.push(app);
    return app;
  }

  beforeEach(async () => {
    clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    // Webhooks of the alert test go to a receiver on 127.0.0.1.
    authority = await startTestApp({ engine, clock, webhookAllowPrivate: true });
    apps.push(authority);
    a = new AdminClient(authority.url, authority.ownerKey);
    ({ accountId, vaId } = await a.setupVa('Acme'));
    await a.addLicense(vaId, { tag: TAG, count: 10, name: 'Site license' });
    const created = await a.ok<{ id: string; token: string }>('POST', '/api/v1/satellites', {
      name: 'sat1',
      accountId,
      vaIds: [vaId],
    });
    satelliteId = created.id;
    // The one-time token never begins like a command-line option ('-'): it is pasted after --token.
    expect(created.token).toMatch(/^S[A-Za-z0-9_-]{32}$/);
    sat = await startSatellite();
    s = new AdminClient(sat.url, sat.ownerKey);
    const reg = await s.ok<{ registered: boolean; name: string }>(
      'POST',
      '/api/v1/sync/register',
      { token: created.token, upstream: authority.url },
      200,
    );
    expect(reg).toMatchObject({ registered: true, name: 'sat1', satelliteId });
  });

  afterEach(async () => {
    for (const app of apps.splice(0)) await app.dispose();
  });

  const device = (sn: string) =>
    new SimDevice({ url: sat.url, clock, rootCaPem: authority.pki.current().rootCaPem }, { pid: 'C9300', sn });

  it('registers over the network, serves devices, and brings their usage up in one sync', async () => {
    expect((await s.listLicenses(vaId)).map((l) => l.quantity)).toEqual([10]);
    // One serving node per VA: the authority refuses tokens there, naming the satellite.
    const refused = await a.request('POST', `/api/v1/virtual-accounts/${vaId}/tokens`, {});
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      code: 'SERVED_BY_SATELLITE',
      message: 'Virtual Account Lab is served by satellite sat1; create tokens there.',
    });
    const token = await s.createToken(vaId);
    const d = device('S1');
    expect((await d.register(token.token)).status).toBe(200);
    expect((await d.authorize([{ tag: TAG, count: 4 }])).status).toBe(200);
    expect(await a.listInstances(vaId)).toEqual([]);

    const now = await s.ok<{ sequence: number; up: { instances: number; events: number } }>(
      'POST',
      '/api/v1/sync/now',
      {},
      200,
    );
    expect(now.sequence).toBe(1);
    expect(now.up.instances).toBe(1);
    const instances = await a.listInstances(vaId);
    expect(instances.map((i) => [i.sn, i.usage])).toEqual([['S1', [{ tag: TAG, count: 4 }]]]);
    expect((await a.listLicenses(vaId))[0]).toMatchObject({ quantity: 10, inUse: 4 });
    const events = await a.ok<{ items: Array<{ actor: string; type: string }> }>(
      'GET',
      `/api/v1/virtual-accounts/${vaId}/events`,
      undefined,
      200,
    );
    expect(events.items.some((e) => e.type === 'instance.registered' && e.actor.startsWith('satellite:sat1/'))).toBe(
      true,
    );

    // Licenses added at the authority reach the satellite at its next sync.
    await a.addLicense(vaId, { tag: TAG, count: 5 });
    await s.ok('POST', '/api/v1/sync/now', {}, 200);
    expect((await s.listLicenses(vaId))[0]).toMatchObject({ quantity: 15, inUse: 4 });
  });

  it("brings a VA's custom policy down with every sync, undoing drift, and refuses setting one on the satellite", async () => {
    const terms = {
      licenseClass: 'unenforced-perpetual',
      firstReportDays: 30,
      reportingFrequencyDays: 30,
      onChangeDays: 7,
    };
    const refused = await s.request('POST', `/api/v1/virtual-accounts/${vaId}/policy`, terms);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'NOT_ON_SATELLITE' });
    type PolicyView = { name: string; classes: Record<string, { reportingFrequencyDays: number }> };
    const policyOf = (client: AdminClient) =>
      client.ok<PolicyView>('GET', `/api/v1/virtual-accounts/${vaId}/policy`, undefined, 200);
    expect((await policyOf(s)).name).not.toBe('Custom Policy');

    await a.ok('POST', `/api/v1/virtual-accounts/${vaId}/policy`, terms, 200);
    await s.ok('POST', '/api/v1/sync/now', {}, 200);
    const down = await policyOf(s);
    expect(down).toEqual(await policyOf(a));
    expect(down.classes['unenforced-perpetual']?.reportingFrequencyDays).toBe(30);

    // Drift in the satellite's copy (a restored backup, a hand edit) is undone by the next sync.
    await sat.database.db.updateTable('va_policies').set({ frequency_days: 1 }).where('va_id', '=', vaId).execute();
    await sat.database.db
      .insertInto('va_policies')
      .values({
        va_id: vaId,
        license_class: 'enforced',
        first_report_days: 1,
        frequency_days: 1,
        on_change_days: 1,
        updated_at: 0,
      })
      .execute();
    await s.ok('POST', '/api/v1/sync/now', {}, 200);
    expect(await policyOf(s)).toEqual(await policyOf(a));
  });

  it('answers a re-sent request with the same response, and refuses stale, foreign, altered and malformed files', async () => {
    const token = await s.createToken(vaId);
    const d = device('S2');
    await d.register(token.token);
    await d.authorize([{ tag: TAG, count: 2 }]);
    const exported = await s.ok<{ sequence: number; document: SyncDocument<'sync-request'>; file: string }>(
      'POST',
      '/api/v1/sync/export',
      {},
      200,
    );
    expect(exported.file).toMatch(/^license-sync-request-sat1_20260101-1\.yml$/);
    const first = await a.ok<{ applied: boolean; response: SyncDocument }>(
      'POST',
      '/api/v1/satellites/file-sync',
      exported.document,
      200,
    );
    const second = await a.ok<{ applied: boolean; response: SyncDocument }>(
      'POST',
      '/api/v1/satellites/file-sync',
      exported.document,
      200,
    );
    expect([first.applied, second.applied]).toEqual([true, false]);
    expect(second.response).toEqual(first.response);
    expect((await a.listLicenses(vaId))[0]).toMatchObject({ inUse: 2 });

    // An altered request: refused, nothing changed.
    const altered = structuredClone(exported.document) as SyncDocument<'sync-request'>;
    expect(altered.format).toBe('smartlic-sync/2');
    const table = altered.payload.instances as InstanceTable;
    table.rows[0]![13][1] = 9;
    const alteredAnswer = await a.request('POST', '/api/v1/satellites/file-sync', altered);
    expect(alteredAnswer.body).toMatchObject({ code: 'SYNC_REFUSED' });
    expect((alteredAnswer.body as { message: string }).message).toMatch(/signature does not match/);
    const malformed = await a.request('POST', '/api/v1/satellites/file-sync', {
      ...exported.document,
      payload: { x: 1 },
    });
    expect(malformed.body).toMatchObject({ code: 'SYNC_REFUSED' });
    expect((await a.listLicenses(vaId))[0]).toMatchObject({ inUse: 2 });
    // Bodies nested thousands deep (JSON.stringify of them overflows the stack): refused as malformed.
    const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    const inEvent = JSON.stringify(exported.document).replace('"events":[', `"events":[${deep},`);
    for (const rawBody of [deep, inEvent]) {
      const nested = await sendJson(`${authority.url}/api/v1/satellites/file-sync`, {
        method: 'POST',
        rawBody,
        headers: { authorization: `Bearer ${authority.ownerKey}` },
      });
      expect(nested.status).toBe(409);
      expect(nested.body).toMatchObject({ code: 'SYNC_REFUSED' });
    }

    const imported = await s.ok<{ sequence: number; applied: boolean }>(
      'POST',
      '/api/v1/sync/import',
      first.response,
      200,
    );
    expect(imported).toMatchObject({ sequence: 1, applied: true });
    const again = await s.request('POST', '/api/v1/sync/import', first.response);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({
      code: 'SYNC_REFUSED',
      message: 'This response (sequence 1) was already applied; nothing was changed.',
    });
    // The old request again, once the next was applied: stale.
    await s.ok('POST', '/api/v1/sync/now', {}, 200);
    const stale = await a.request('POST', '/api/v1/satellites/file-sync', exported.document);
    expect((stale.body as { message: string }).message).toMatch(/older than the last one applied/);
  });

  it('refuses a response meant for another satellite', async () => {
    const created = await a.ok<{ token: string }>('POST', '/api/v1/satellites', {
      name: 'sat2',
      accountId,
      vaIds: [(await a.createVa(accountId, 'Other')).id],
    });
    const sat2 = await startSatellite();
    const s2 = new AdminClient(sat2.url, sat2.ownerKey);
    await s2.ok('POST', '/api/v1/sync/register', { token: created.token, upstream: authority.url }, 200);
    const exported = await s2.ok<{ document: SyncDocument }>('POST', '/api/v1/sync/export', {}, 200);
    const answer = await a.ok<{ response: SyncDocument }>(
      'POST',
      '/api/v1/satellites/file-sync',
      exported.document,
      200,
    );
    const foreign = await s.request('POST', '/api/v1/sync/import', answer.response);
    expect(foreign.body).toMatchObject({
      code: 'SYNC_REFUSED',
      message: 'This response is for another satellite, not sat1; nothing was changed.',
    });
  });

  it('brings up every change of 200 disconnected days in order, and a full sync repairs drift', async () => {
    const token = await s.createToken(vaId, { days: 365, maxUses: 100 });
    const devices: SimDevice[] = [];
    for (let day = 0; day < 200; day += 10) {
      clock.advance(10 * DAY);
      const d = device(`D${day}`);
      expect((await d.register(token.token)).status).toBe(200);
      await d.authorize([{ tag: TAG, count: 1 }]);
      devices.push(d);
      if (devices.length > 3) {
        const gone = devices.shift()!;
        expect((await gone.deregister()).status).toBe(200);
      }
      for (const live of devices) await live.authorize([{ tag: TAG, count: 1 }]);
    }
    const result = await s.ok<{ up: { instances: number; removed: number; events: number } }>(
      'POST',
      '/api/v1/sync/now',
      {},
      200,
    );
    expect(result.up.removed).toBe(17);
    const mirrored = await a.listInstances(vaId);
    expect(mirrored.map((i) => i.sn).sort()).toEqual(devices.map((d) => d.udi.sn).sort());
    expect((await a.listLicenses(vaId))[0]).toMatchObject({ inUse: 3 });
    const events = await a.ok<{ items: Array<{ type: string; at: string; detail: { sn?: string } }> }>(
      'GET',
      `/api/v1/virtual-accounts/${vaId}/events?limit=500`,
      undefined,
      200,
    );
    const registered = events.items.filter((e) => e.type === 'instance.registered').map((e) => e.at);
    // Newest first, one per device, at the satellite's times: every change arrived, in order.
    expect(new Set(registered).size).toBe(20);
    expect(registered).toEqual([...registered].sort().reverse());

    // Drift: the satellite lost its pools and the authority lost a mirrored instance.
    await sat.database.db.deleteFrom('license_pools').execute();
    await authority.database.db.deleteFrom('instances').where('sn', '=', devices[0]!.udi.sn).execute();
    const full = await s.ok<{ full: boolean; up: { instances: number } }>(
      'POST',
      '/api/v1/sync/now',
      { full: true },
      200,
    );
    expect(full).toMatchObject({ full: true, up: { instances: 3 } });
    expect((await s.listLicenses(vaId))[0]).toMatchObject({ quantity: 10 });
    expect((await a.listInstances(vaId)).map((i) => i.sn).sort()).toEqual(devices.map((d) => d.udi.sn).sort());
  });

  it('alerts after 40 days without a sync (list and webhook), and renews the certificate inside its last 90 days', async () => {
    const received: string[] = [];
    const receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on('end', () => {
        received.push(body);
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const { port } = receiver.address() as AddressInfo;
    await a.ok('POST', `/api/v1/accounts/${accountId}/webhooks`, { url: `http://127.0.0.1:${port}/hook` });
    clock.advance(40 * DAY);
    const [listed] = await a.ok<Array<{ name: string; alerts: string[] }>>(
      'GET',
      `/api/v1/satellites?accountId=${accountId}`,
      undefined,
      200,
    );
    expect(listed?.alerts).toContain('Synchronization Overdue');
    await a.ok('POST', '/api/v1/jobs/run', {}, 200);
    const events = await a.ok<{ items: Array<{ type: string }> }>(
      'GET',
      `/api/v1/accounts/${accountId}/events`,
      undefined,
      200,
    );
    expect(events.items.filter((e) => e.type === 'satellite.sync-overdue')).toHaveLength(1);
    await a.ok('POST', '/api/v1/jobs/run', {}, 200);
    await authority.app.webhookJobs.runDue();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    const alerts = received.map((body) => JSON.parse(body) as { type: string; detail?: { alert?: string } });
    expect(alerts.filter((hook) => hook.type === 'satellite.sync-overdue')).toHaveLength(1);
    const status = await s.ok<{ health: string; alerts: string[] }>('GET', '/api/v1/sync/status', undefined, 200);
    expect(status.alerts).toContain('Synchronization Overdue');

    clock.advance(250 * DAY);
    const renewed = await s.ok<{ down: { certificateRenewed: boolean } }>('POST', '/api/v1/sync/now', {}, 200);
    expect(renewed.down.certificateRenewed).toBe(true);
    const after = await s.ok<{ alerts: string[]; certificateExpiresAt: string }>(
      'GET',
      '/api/v1/sync/status',
      undefined,
      200,
    );
    expect(Date.parse(after.certificateExpiresAt)).toBeGreaterThan(clock.now() + 300 * DAY);
    expect(after.alerts.filter((alert) => /Certificate|Overdue/.test(alert))).toEqual([]);
  });

  it('relays a chained satellite: a device on Sat3 reaches the authority after Sat3 then Sat1 sync', async () => {
    const va3 = (await a.createVa(accountId, 'Site3')).id;
    await a.addLicense(va3, { tag: TAG, count: 3 });
    // Sat1 must serve Site3 too: a new satellite record serving both.
    await a.ok('DELETE', `/api/v1/satellites/${satelliteId}`, undefined, 200);
    const sat1Token = await a.ok<{ token: string }>('POST', '/api/v1/satellites', {
      name: 'region',
      accountId,
      vaIds: [vaId, va3],
    });
    const sat1 = await startSatellite();
    const s1 = new AdminClient(sat1.url, sat1.ownerKey);
    await s1.ok('POST', '/api/v1/sync/register', { token: sat1Token.token, upstream: authority.url }, 200);
    const sat3Token = await s1.ok<{ token: string }>('POST', '/api/v1/satellites', {
      name: 'site3',
      accountId,
      vaIds: [va3],
    });
    const sat3 = await startSatellite();
    const s3 = new AdminClient(sat3.url, sat3.ownerKey);
    await s3.ok('POST', '/api/v1/sync/register', { token: sat3Token.token, upstream: sat1.url }, 200);
    expect((await s3.listLicenses(va3))[0]).toMatchObject({ quantity: 3 });
    const refused = await s1.request('POST', `/api/v1/virtual-accounts/${va3}/tokens`, {});
    expect(refused.body).toMatchObject({ code: 'SERVED_BY_SATELLITE' });

    const token = await s3.createToken(va3);
    const d = new SimDevice(
      { url: sat3.url, clock, rootCaPem: authority.pki.current().rootCaPem },
      { pid: 'C9200', sn: 'DEEP' },
    );
    expect((await d.register(token.token)).status).toBe(200);
    expect((await d.authorize([{ tag: TAG, count: 2 }])).status).toBe(200);
    await s3.ok('POST', '/api/v1/sync/now', {}, 200);
    expect((await a.listLicenses(va3))[0]).toMatchObject({ inUse: 0 });
    await s1.ok('POST', '/api/v1/sync/now', {}, 200);
    expect((await a.listLicenses(va3))[0]).toMatchObject({ inUse: 2 });
    expect((await a.listInstances(va3)).map((i) => i.sn)).toEqual(['DEEP']);
  });
});
