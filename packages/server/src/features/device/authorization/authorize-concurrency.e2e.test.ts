import { sql } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachEngine } from '../../../test-support/postgres.js';
import type { SimDevice } from '../../../test-support/sim-device.js';
import { startTestServer, type TestServer } from '../../../test-support/test-server.js';

const TAG = 'regid.2014-08.com.example.A';

/** Usage totals as stored, and as they follow from the instances' usage: they must agree. */
async function totalsOnDisk(t: TestServer): Promise<{ stored: unknown[]; computed: unknown[] }> {
  return t.inspect(async (db) => ({
    stored: (await sql`select va_id, tag, in_use from va_usage where in_use <> 0 order by va_id, tag`.execute(db)).rows,
    computed: (
      await sql`select i.va_id, u.tag, sum(u.count) as in_use from instance_usage u join instances i on i.id = u.instance_id
         group by i.va_id, u.tag order by i.va_id, u.tag`.execute(db)
    ).rows,
  }));
}

describeEachEngine('concurrent device traffic', (engine) => {
  let t: TestServer;
  let vaId: string;
  beforeEach(async () => {
    t = await startTestServer({ engine });
    ({ vaId } = await t.admin.setupVa());
    await t.admin.addLicense(vaId, { tag: TAG, count: 100 });
  });
  afterEach(async () => {
    await t.dispose();
  });

  it('50 devices authorizing in parallel end with the right in-use count', async () => {
    const token = (await t.admin.createToken(vaId)).token;
    const devices: SimDevice[] = Array.from({ length: 50 }, () => t.device());
    const registered = await Promise.all(devices.map((d) => d.register(token)));
    expect(registered.map((a) => a.status)).toEqual(Array(50).fill(200));

    const first = await Promise.all(devices.map((d, i) => d.authorize([{ tag: TAG, count: (i % 3) + 1 }])));
    expect(first.map((a) => a.status)).toEqual(Array(50).fill(200));
    const expected = devices.reduce((sum, _d, i) => sum + (i % 3) + 1, 0);
    expect(await t.admin.listLicenses(vaId)).toEqual([
      { tag: TAG, name: TAG, quantity: 100, inUse: expected, surplus: 100 - expected, alerts: [] },
    ]);

    // Everyone changes at once, some to zero, some twice in the same burst.
    const second = await Promise.all([
      ...devices.map((d, i) => d.authorize([{ tag: TAG, count: i % 2 === 0 ? 0 : 3 }])),
    ]);
    expect(second.map((a) => a.status)).toEqual(Array(50).fill(200));
    expect((await t.admin.listLicenses(vaId))[0]).toMatchObject({ inUse: 25 * 3, surplus: 100 - 75 });
    const { stored, computed } = await totalsOnDisk(t);
    expect(stored).toEqual(computed);
  });

  it('parallel registrations never exceed a token’s maximum uses', async () => {
    const token = await t.admin.createToken(vaId, { maxUses: 10 });
    const answers = await Promise.all(Array.from({ length: 25 }, () => t.device().register(token.token)));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 403)).toHaveLength(15);
    expect((await t.admin.listTokens(vaId))[0]).toMatchObject({ uses: 10, status: 'USED_UP' });
    expect(await t.admin.listInstances(vaId)).toHaveLength(10);
  });
});
