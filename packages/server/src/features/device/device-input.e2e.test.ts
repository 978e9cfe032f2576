import { randomUUID } from 'node:crypto';
import { DEVICE_ROUTES } from '@smartlic/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { OpenDatabase } from '../../storage/database.js';
import { describeEachEngine } from '../../test-support/postgres.js';
import type { SimDevice } from '../../test-support/sim-device.js';
import { openServerDatabase, startTestServer, type TestServer } from '../../test-support/test-server.js';
import { INVALID_DATE } from '../../util/time.js';

interface ErrorAnswer {
  code: string;
  message: string;
  fields?: Record<string, string[]>;
}

/** Beyond what a JavaScript Date can hold (±8.64e15 ms): `new Date(…).toISOString()` throws. */
const BEYOND_DATES = 8_640_000_000_000_001;
const TAG = 'regid.2026-01.com.example.Input_1.0';

describeEachEngine('device input that would break listings, terminals or spreadsheets', (engine) => {
  let t: TestServer;
  let database: OpenDatabase;
  let accountId: string;
  let vaId: string;
  let token: string;
  let device: SimDevice;

  beforeAll(async () => {
    t = await startTestServer({ engine });
    // A second connection to the server's own SQLite file, to plant rows the routes now refuse.
    database = await openServerDatabase(t);
    accountId = (await t.admin.createAccount('Input', 'input.example.com')).id;
    vaId = (await t.admin.createVa(accountId, 'Lab')).id;
    token = (await t.admin.createToken(vaId)).token;
    device = t.device('C9300-24UX');
    expect((await device.register(token, { hostname: 'core-sw1.lab_2.example.com' })).status).toBe(200);
  });
  afterAll(async () => {
    await database?.close();
    await t.dispose();
  });

  /** Expects a 400 BAD_REQUEST naming exactly `field`, in its message too. */
  const expectRefused = (answer: { status: number; body: unknown }, field: string) => {
    const body = answer.body as ErrorAnswer;
    expect(answer.status, JSON.stringify(body)).toBe(400);
    expect(body.code).toBe('BAD_REQUEST');
    expect(Object.keys(body.fields ?? {})).toEqual([field]);
    expect(body.message).toContain(field);
  };
  const count = async (table: 'license_pools' | 'device_conversions' | 'instances' | 'instance_usage') =>
    Number(
      (
        await database.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('refuses a converted license ending beyond the range of a date, and stores nothing', async () => {
    const before = { pools: await count('license_pools'), conversions: await count('device_conversions') };
    for (const endsAt of [BEYOND_DATES, Date.UTC(10_000, 0, 1), Date.UTC(1999, 11, 31)]) {
      const licenses = [{ legacyId: `PAK-${endsAt}`, tag: TAG, count: 1, type: 'term', endsAt }];
      const answer = await device.send(DEVICE_ROUTES.convert, device.sign(device.identified('convert', { licenses })));
      expectRefused(answer, 'payload.licenses.0.endsAt');
      expect((answer.body as ErrorAnswer).message).toContain('from 2000-01-01 to 9999-12-31');
    }
    expect({ pools: await count('license_pools'), conversions: await count('device_conversions') }).toEqual(before);
    expect((await t.admin.request('GET', `/api/v1/virtual-accounts/${vaId}/licenses`)).status).toBe(200);
  });

  it('refuses a device timestamp out of the range of a date before anything else', async () => {
    const payload = device.identified('authorize', { entitlements: [], timestamp: BEYOND_DATES });
    expectRefused(await device.send(DEVICE_ROUTES.authorize, device.sign(payload)), 'payload.timestamp');
  });

  it('refuses host names and UDIs with control characters or spaces, registering nothing', async () => {
    const before = await count('instances');
    const other = t.device('C9300-24UX');
    expectRefused(
      await other.send(DEVICE_ROUTES.register, await other.registerEnvelope(token, { hostname: 'sw1\u001b[31m' })),
      'payload.hostname',
    );
    const spaced = t.device('C9300-24UX', 'FCW 2134');
    expectRefused(await spaced.send(DEVICE_ROUTES.register, await spaced.registerEnvelope(token)), 'payload.udi.sn');
    expect(await count('instances')).toBe(before);
  });

  it('refuses tags with a NUL, an escape or a formula, and display names with controls, changing no usage', async () => {
    expect((await device.authorize([{ tag: TAG, count: 2 }])).status).toBe(200);
    const before = await count('instance_usage');
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ tag: 'regid.x\u0000', count: 1 }, 'payload.entitlements.0.tag'],
      [{ tag: 'regid.\u001b[2Jx', count: 1 }, 'payload.entitlements.0.tag'],
      [{ tag: '=HYPERLINK("http://x","y")', count: 1 }, 'payload.entitlements.0.tag'],
      [{ tag: TAG, count: 1, displayName: 'Input\u009b31m' }, 'payload.entitlements.0.displayName'],
    ];
    for (const [entitlement, field] of cases) {
      const envelope = device.sign(device.identified('authorize', { entitlements: [entitlement] }));
      expectRefused(await device.send(DEVICE_ROUTES.authorize, envelope), field);
    }
    expect(await count('instance_usage')).toBe(before);
    const usage = (await t.admin.listInstances(vaId)).find((i) => i.id === device.instanceId)?.usage;
    expect(usage).toEqual([expect.objectContaining({ tag: TAG, count: 2 })]);
  });

  it('still takes legitimate tags with spaces and commas, and dashed, dotted host names', async () => {
    const spaced = 'C9500 32C NW Advantage';
    const comma = 'regid.2014-08.com.cisco.CUSP-5,1.0_8f106f12-4d11-44b7-8f36-f7aeaee3dfaa';
    const answer = await device.authorize([
      { tag: spaced, count: 1, displayName: 'C9500 32C Network Advantage' },
      { tag: comma, count: 1 },
    ]);
    expect(answer.status).toBe(200);
    const instance = (await t.admin.listInstances(vaId)).find((i) => i.id === device.instanceId);
    expect(instance?.hostname).toBe('core-sw1.lab_2.example.com');
    expect(instance?.usage.map((u) => u.tag).sort()).toEqual([spaced, comma]);
  });

  it('holds admin routes that take tags, names and dates to the same rules', async () => {
    const add = (body: Record<string, unknown>) =>
      t.admin.request('POST', `/api/v1/virtual-accounts/${vaId}/licenses`, { tag: TAG, count: 1, ...body });
    expectRefused(await add({ tag: '=1+1' }), 'tag');
    expectRefused(await add({ tag: 'regid.x\u0000' }), 'tag');
    expectRefused(await add({ name: 'red\u001b[31m' }), 'name');
    expectRefused(await add({ type: 'term', endsAt: '1999-12-31' }), 'endsAt');
    expectRefused(await t.admin.request('POST', '/api/v1/tags', { tag: 'child\u0007', parent: TAG }), 'tag');
    expectRefused(await t.admin.request('POST', '/api/v1/tags', { tag: TAG, parent: '@parent' }), 'parent');
    expect((await add({ tag: '  C9500 Network Advantage  ', type: 'term', endsAt: '9999-12-31' })).status).toBe(201);
  });

  it('lists licenses and reports with a pool whose end no date can express (planted in the database)', async () => {
    const now = t.clock.now();
    await database.db
      .insertInto('license_pools')
      .values({
        id: randomUUID(),
        va_id: vaId,
        tag: 'regid.planted',
        display_name: null,
        quantity: 3,
        type: 'term',
        starts_at: now,
        ends_at: BEYOND_DATES,
        created_at: now,
      })
      .execute();
    const list = await t.admin.licenseDetails(vaId);
    expect(list.find((l) => l.tag === 'regid.planted')).toMatchObject({ quantity: 3, expiresAt: INVALID_DATE });
    expect(list.find((l) => l.tag === 'C9500 32C NW Advantage')).toMatchObject({ inUse: 1, expiresAt: null });
    const report = await t.admin.request('GET', `/api/v1/virtual-accounts/${vaId}/reports/licenses?format=csv`);
    expect(report.status).toBe(200);
    expect(String(report.body)).toMatch(/\r\nregid\.planted,regid\.planted,,3,0,0,,0,3,invalid date,\r\n/);
  });

  it('writes device text that a spreadsheet would run as a formula as text in CSV reports', async () => {
    await database.db
      .updateTable('instances')
      .set({ hostname: '=HYPERLINK("http://x","y")' })
      .where('id', '=', device.instanceId!)
      .execute();
    const report = await t.admin.request('GET', `/api/v1/virtual-accounts/${vaId}/reports/instances?format=csv`);
    expect(report.status).toBe(200);
    const csv = String(report.body);
    expect(csv).toContain(`,"'=HYPERLINK(""http://x"",""y"")",`);
    expect(csv).not.toMatch(/(^|,)=HYPERLINK/m);
  });
});
