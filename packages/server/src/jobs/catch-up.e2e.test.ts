import { DAY, ManualClock } from '@smartlic/protocol';
import { afterEach, expect, it, vi } from 'vitest';
import { describeEachEngine } from '../test-support/postgres.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

describeEachEngine('jobs catch up at start', (engine) => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    for (const s of servers.reverse()) await s.dispose();
    servers.length = 0;
  });

  it('removes a year-silent instance shortly after a start, without anyone calling job run', async () => {
    const clock = new ManualClock();
    const first = await startTestServer({ engine, clock });
    servers.push(first);
    const { vaId } = await first.admin.setupVa();
    const token = (await first.admin.createToken(vaId, { days: 10 })).token;
    expect((await first.device().register(token)).status).toBe(200);
    expect(await first.admin.listInstances(vaId)).toHaveLength(1);
    await first.stop();

    clock.advance(366 * DAY);
    const second = await startTestServer({
      engine,
      clock,
      dataDir: first.dataDir,
      ...(first.dbUrl ? { dbUrl: first.dbUrl } : {}),
      jobStartDelayMs: 50,
    });
    servers.push(second);
    // The clock stands still: only the runner's first run, due 50 ms after the start, can remove it.
    await vi.waitFor(async () => expect(await second.admin.listInstances(vaId)).toEqual([]), {
      timeout: 10_000,
      interval: 50,
    });
    const events = await second.admin.ok<{ items: { type: string }[] }>(
      'GET',
      `/api/v1/virtual-accounts/${vaId}/events?limit=500`,
      undefined,
      200,
    );
    expect(events.items.filter((e) => e.type === 'instance.removed')).toHaveLength(1);
  });

  it('leaves due work alone until the start delay has passed (the control for the test above)', async () => {
    const clock = new ManualClock();
    const first = await startTestServer({ engine, clock });
    servers.push(first);
    const { vaId } = await first.admin.setupVa();
    const token = (await first.admin.createToken(vaId, { days: 10 })).token;
    expect((await first.device().register(token)).status).toBe(200);
    await first.stop();

    clock.advance(366 * DAY);
    const second = await startTestServer({
      engine,
      clock,
      dataDir: first.dataDir,
      ...(first.dbUrl ? { dbUrl: first.dbUrl } : {}),
    });
    servers.push(second);
    expect(await second.admin.listInstances(vaId)).toHaveLength(1);
    const outcome = await second.admin.ok<{ instancesRemoved: number }>('POST', '/api/v1/jobs/run', undefined, 200);
    expect(outcome.instancesRemoved).toBe(1);
  });
});
