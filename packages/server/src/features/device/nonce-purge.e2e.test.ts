import { join } from 'node:path';
import { DEVICE_ROUTES, HOUR, MINUTE } from '@smartlic/protocol';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorOf } from '../../test-support/sim-device.js';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';

describe('nonce retention', () => {
  let t: TestServer;
  beforeEach(async () => {
    t = await startTestServer();
  });
  afterEach(async () => {
    await t.dispose();
  });

  const nonceCount = () => {
    const db = new BetterSqlite3(join(t.dataDir, 'smartlic.db'), { readonly: true });
    try {
      return (db.prepare('select count(*) as n from nonces').get() as { n: number }).n;
    } finally {
      db.close();
    }
  };

  it('the nonce-purge job forgets nonces older than twice the tolerance; replays of them fail the clock check instead', async () => {
    const { vaId } = await t.admin.setupVa();
    const device = t.device();
    await device.register((await t.admin.createToken(vaId, { days: 10 })).token);
    const old = device.authorizeEnvelope([]);
    expect((await device.send(DEVICE_ROUTES.authorize, old)).status).toBe(200);
    expect(nonceCount()).toBe(2);

    const runJobs = () => t.admin.ok<{ noncesPurged: number }>('POST', '/api/v1/jobs/run', undefined, 200);

    t.clock.advance(HOUR + MINUTE); // within 2 × tolerance: still remembered, the purge cannot drop them yet
    expect((await device.authorize([])).status).toBe(200);
    expect(await runJobs()).toMatchObject({ noncesPurged: 0 });
    expect(nonceCount()).toBe(3);

    t.clock.advance(HOUR); // the first two are now older than 2 h
    expect((await device.authorize([])).status).toBe(200);
    expect(nonceCount()).toBe(4); // device traffic no longer purges: the job runner does
    expect(await runJobs()).toMatchObject({ noncesPurged: 2 });
    expect(nonceCount()).toBe(2);

    const replay = await device.send(DEVICE_ROUTES.authorize, old);
    expect(replay.status).toBe(400);
    expect(errorOf(replay).code).toBe('CLOCK_OFFSET');
  });
});
