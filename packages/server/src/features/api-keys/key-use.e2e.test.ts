import { ManualClock, MINUTE } from '@smartlic/protocol';
import { afterEach, expect, it } from 'vitest';
import { describeEachEngine } from '../../test-support/postgres.js';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';

describeEachEngine('API key last use', (engine) => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    for (const s of servers.reverse()) await s.dispose();
    servers.length = 0;
  });

  const lastUse = (t: TestServer) =>
    t.inspect(
      async (db) => (await db.selectFrom('api_keys').select('last_used_at').executeTakeFirstOrThrow()).last_used_at,
    );

  it('is written after the request, kept to the minute, and not lost at a stop', async () => {
    const clock = new ManualClock();
    const start = (from?: TestServer) =>
      startTestServer({
        engine,
        clock,
        ...(from ? { dataDir: from.dataDir, ...(from.dbUrl ? { dbUrl: from.dbUrl } : {}) } : {}),
      });
    const first = await start();
    servers.push(first);
    await first.admin.ok('GET', '/api/v1/accounts');
    expect(await lastUse(first)).toBeNull();
    await first.stop();
    expect(await lastUse(first)).toBe(clock.now());
    const firstUse = clock.now();

    const second = await start(first);
    servers.push(second);
    clock.advance(MINUTE / 2);
    await second.admin.ok('GET', '/api/v1/accounts');
    clock.advance(MINUTE / 2);
    await second.admin.ok('GET', '/api/v1/accounts');
    await second.stop();
    expect(await lastUse(second)).toBe(clock.now());
    expect(clock.now() - firstUse).toBe(MINUTE);
  });
});
