import { DEVICE_ROUTES, HOUR, MINUTE } from '@smartlic/protocol';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachEngine } from '../../test-support/postgres.js';
import { errorOf } from '../../test-support/sim-device.js';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';

describeEachEngine('nonce retention', (engine) => {
  let t: TestServer;
  beforeEach(async () => {
    t = await startTestServer({ engine });
  });
  afterEach(async () => {
    await t.dispose();
  });

  const nonceCount = async () => (await t.inspect((db) => db.selectFrom('nonces').select('nonce').execute())).length;

  it('the nonce-purge job forgets nonces older than twice the tolerance; replays of them fail the clock check instead', async () => {
    const { vaId } = await t.admin.setupVa();
    const device = t.device();
    await device.register((await t.admin.createToken(vaId, { days: 10 })).token);
    const old = device.authorizeEnvelope([]);
    expect((await device.send(DEVICE_ROUTES.authorize, old)).status).toBe(200);
    expect(await nonceCount()).toBe(2);

    const runJobs = () => t.admin.ok<{ noncesPurged: number }>('POST', '/api/v1/jobs/run', undefined, 200);

    t.clock.advance(HOUR + MINUTE); // within 2 × tolerance: still remembered, the purge cannot drop them yet
    expect((await device.authorize([])).status).toBe(200);
    expect(await runJobs()).toMatchObject({ noncesPurged: 0 });
    expect(await nonceCount()).toBe(3);

    t.clock.advance(HOUR); // the first two are now older than 2 h
    expect((await device.authorize([])).status).toBe(200);
    expect(await nonceCount()).toBe(4); // device traffic no longer purges: the job runner does
    expect(await runJobs()).toMatchObject({ noncesPurged: 2 });
    expect(await nonceCount()).toBe(2);

    const replay = await device.send(DEVICE_ROUTES.authorize, old);
    expect(replay.status).toBe(400);
    expect(errorOf(replay).code).toBe('CLOCK_OFFSET');
  });
});
