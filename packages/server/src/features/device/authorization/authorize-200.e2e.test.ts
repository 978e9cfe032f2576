import { ERRORS } from '@smartlic/protocol';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../../../test-support/postgres.js';
import type { SimDevice } from '../../../test-support/sim-device.js';
import { startTestServer, type TestServer } from '../../../test-support/test-server.js';

const TAG = 'regid.2026-01.com.example.Pool';
const QUANTITY = 300;

describeEachEngine('200 devices authorizing at once against one pool (real HTTP, real database)', (engine) => {
  let t: TestServer;
  let vaId: string;
  let devices: SimDevice[];
  beforeAll(async () => {
    t = await startTestServer({ engine });
    ({ vaId } = await t.admin.setupVa());
    await t.admin.addLicense(vaId, { tag: TAG, count: QUANTITY });
    const token = (await t.admin.createToken(vaId, { maxUses: 500 })).token;
    devices = Array.from({ length: 200 }, () => t.device());
    const registered = await Promise.all(devices.map((d) => d.register(token)));
    expect(registered.every((a) => a.status === 200)).toBe(true);
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('ends with inUse = the sum of the requests and a consistent surplus; failures only with protocol codes', async () => {
    const counts = devices.map((_d, i) => (i % 4) + 1);
    const answers = await Promise.all(devices.map((d, i) => d.authorize([{ tag: TAG, count: counts[i]! }])));
    const failed = answers.filter((a) => a.status !== 200);
    for (const a of failed) expect(Object.keys(ERRORS)).toContain((a.body as { code: string }).code);
    const applied = counts.filter((_c, i) => answers[i]!.status === 200).reduce((s, c) => s + c, 0);
    const expected = counts.reduce((s, c) => s + c, 0);
    expect(failed).toEqual([]);
    expect(applied).toBe(expected);
    const [row] = await t.admin.listLicenses(vaId);
    expect(row).toMatchObject({ quantity: QUANTITY, inUse: expected, surplus: QUANTITY - expected });
    expect(row!.alerts).toEqual(expected > QUANTITY ? ['Insufficient Licenses'] : []);
    // The running total on disk agrees with the instances' usage rows.
    const { stored, computed } = await t.inspect(async (db) => ({
      stored: await db
        .selectFrom('va_usage')
        .select('in_use')
        .where('va_id', '=', vaId)
        .where('tag', '=', TAG)
        .executeTakeFirstOrThrow(),
      computed: (
        await sql<{ n: number }>`select sum(u.count) as n from instance_usage u join instances i on i.id = u.instance_id
          where i.va_id = ${vaId}`.execute(db)
      ).rows[0]!,
    }));
    expect(stored.in_use).toBe(expected);
    expect(computed.n).toBe(expected);
  });
});
