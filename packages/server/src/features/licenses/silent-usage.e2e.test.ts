import { DAY, DEFAULT_TIMERS } from '@smartlic/protocol';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachEngine } from '../../test-support/postgres.js';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';
import { readSilentUsage } from '../compliance/silent-usage-store.js';
import { scanSilentUsage, silentUsageAlert } from './silent-usage.js';

const A = 'regid.2026-01.com.example.A';
const B = 'regid.2026-01.com.example.B';

describeEachEngine('silent usage: the maintained count agrees with the scan', (engine) => {
  let t: TestServer;
  beforeEach(async () => {
    t = await startTestServer({ engine });
  });
  afterEach(async () => {
    await t.dispose();
  });

  /** The maintained count and the scan of silent instances, for each VA, as the license list asks now. */
  const agree = async (vaIds: string[]) => {
    const since = t.clock.now() - DEFAULT_TIMERS.silentAlertMs;
    const answers = await t.inspect(async (db) =>
      Promise.all(
        vaIds.map(async (vaId) => ({
          maintained: Object.fromEntries(await readSilentUsage(db, vaId, since)),
          scanned: Object.fromEntries(await scanSilentUsage(db, vaId, since)),
        })),
      ),
    );
    for (const [i, { maintained, scanned }] of answers.entries()) {
      expect(maintained, vaIds[i]).toEqual(scanned);
      const alerts = Object.fromEntries(
        (await t.admin.listLicenses(vaIds[i]!)).map((l) => [l.tag, l.alerts.filter((a) => a.includes('silent'))]),
      );
      for (const [tag, count] of Object.entries(scanned)) expect(alerts[tag]).toEqual([silentUsageAlert(count)]);
    }
    return answers.map((a) => a.scanned);
  };
  const counted = () =>
    t.inspect(async (db) => Number((await db.selectFrom('va_silent_usage').select('in_use').execute()).length));
  const runJobs = () => t.admin.ok('POST', '/api/v1/jobs/run', undefined, 200);

  it('after registrations, usage changes, silence, renewals after silence, transfer, release and removal', async () => {
    const { accountId, vaId } = await t.admin.setupVa();
    const other = (await t.admin.createVa(accountId, 'Other')).id;
    await t.admin.addLicense(vaId, { tag: A, count: 100 });
    const token = (await t.admin.createToken(vaId)).token;
    const devices = Array.from({ length: 6 }, (_, i) => t.device('C9300-24UX', `FOC${i}`));
    for (const [i, d] of devices.entries()) {
      expect((await d.register(token)).status).toBe(200);
      await d.authorize([
        { tag: A, count: i + 1 },
        { tag: B, count: 1 },
      ]);
    }
    expect(await agree([vaId, other])).toEqual([{}, {}]);

    t.clock.advance(31 * DAY);
    await devices[0]!.authorize([{ tag: A, count: 9 }]);
    // Fallen silent since the job last ran: counted by the range read alone.
    expect((await agree([vaId]))[0]).toEqual({ [A]: 2 + 3 + 4 + 5 + 6, [B]: 5 });
    expect(await counted()).toBe(0);

    await runJobs();
    expect(await counted()).toBeGreaterThan(0);
    expect((await agree([vaId]))[0]).toEqual({ [A]: 20, [B]: 5 });

    // Renewals after silence: the same usage, then a changed one.
    await devices[1]!.authorize([
      { tag: A, count: 2 },
      { tag: B, count: 1 },
    ]);
    await devices[2]!.authorize([{ tag: B, count: 7 }]);
    expect((await agree([vaId]))[0]).toEqual({ [A]: 4 + 5 + 6, [B]: 3 });

    await t.admin.ok('POST', `/api/v1/instances/${devices[3]!.instanceId}/transfer`, { toVaId: other }, 200);
    expect(await agree([vaId, other])).toEqual([
      { [A]: 5 + 6, [B]: 2 },
      { [A]: 4, [B]: 1 },
    ]);
    await runJobs();
    expect(await agree([vaId, other])).toEqual([
      { [A]: 5 + 6, [B]: 2 },
      { [A]: 4, [B]: 1 },
    ]);

    await t.admin.ok('DELETE', `/api/v1/instances/${devices[4]!.instanceId}`, undefined, 200);
    expect(await agree([vaId, other])).toEqual([
      { [A]: 6, [B]: 1 },
      { [A]: 4, [B]: 1 },
    ]);

    // Day 91: the job releases the usage of the devices silent since day 0 (3 and 5).
    t.clock.advance(60 * DAY);
    await devices[0]!.authorize([{ tag: A, count: 1 }]);
    await runJobs();
    expect(await agree([vaId, other])).toEqual([{ [A]: 2, [B]: 8 }, {}]);
    await devices[1]!.authorize([{ tag: A, count: 1 }]);
    expect(await agree([vaId, other])).toEqual([{ [B]: 7 }, {}]);

    // A year: silent instances are removed.
    t.clock.advance(300 * DAY);
    await runJobs();
    expect(await agree([vaId, other])).toEqual([{}, {}]);
    // Every counted use was taken out again: no drift is left behind.
    const left = await t.inspect(async (db) => db.selectFrom('va_silent_usage').select('in_use').execute());
    expect(left.length).toBeGreaterThan(0);
    expect(left.map((r) => Number(r.in_use))).toEqual(left.map(() => 0));
  });
});
