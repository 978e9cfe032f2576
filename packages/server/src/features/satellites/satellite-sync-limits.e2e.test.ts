import { ManualClock } from '@smartlic/protocol';
import { afterEach, expect, it } from 'vitest';
import { DEFAULT_RATE_LIMITS, type RateLimits } from '../../http/rate-limits.js';
import { AdminClient } from '../../test-support/admin-client.js';
import { rawHttp, sendJson } from '../../test-support/http.js';
import { describeEachEngine } from '../../test-support/postgres.js';
import { startTestApp, type TestApp } from '../../test-support/test-app.js';
import { SYNC_BODY_LIMIT_BYTES } from './satellite-routes.js';

const TAG = 'regid.2026-01.org.smartlic.Limits';

describeEachEngine('satellite sync routes: body limits and rate limits', (engine) => {
  const apps: TestApp[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.dispose();
  });

  async function start(limits: Partial<RateLimits> = {}) {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const authority = await startTestApp({
      engine,
      clock,
      deps: { rateLimits: { ...DEFAULT_RATE_LIMITS, ...limits } },
    });
    apps.push(authority);
    const a = new AdminClient(authority.url, authority.ownerKey);
    const { accountId, vaId } = await a.setupVa('Acme');
    await a.addLicense(vaId, { tag: TAG, count: 10, name: 'Site license' });
    const created = await a.ok<{ id: string; token: string }>('POST', '/api/v1/satellites', {
      name: 'sat1',
      accountId,
      vaIds: [vaId],
    });
    /** What a refused request must leave as it was: the satellites, and the authority's event log. */
    const state = async () => ({
      satellites: await a.ok('GET', `/api/v1/satellites?accountId=${accountId}`, undefined, 200),
      events: await a.ok('GET', `/api/v1/accounts/${accountId}/events?limit=500`, undefined, 200),
    });
    return { authority, a, accountId, vaId, created, clock, state };
  }

  it('refuses a sync body over its limit with one 413 before reading it, and a registration over 64 KiB; nothing changes', async () => {
    const { authority, created, state } = await start();
    const before = await state();
    const port = Number(new URL(authority.url).port);
    const declared = SYNC_BODY_LIMIT_BYTES + 1;
    const oversized = await rawHttp(
      port,
      [
        'POST /api/v1/satellite-sync/sync HTTP/1.1',
        'Host: 127.0.0.1',
        'Content-Type: application/json',
        `Content-Length: ${declared}`,
      ].join('\r\n') +
        `\r\n\r\n{"format":"smartlic-sync/2","kind":"sync-request","payload":{"satelliteId":"${created.id}"`,
      5000,
    );
    expect(oversized.status).toBe(413);
    expect(JSON.parse(oversized.body)).toEqual({
      code: 'BODY_TOO_LARGE',
      message: 'The request body is too large (the limit is 384 MiB).',
      requestId: expect.any(String),
    });

    // A registration request is a token and a key: the routes' default limit.
    const padded = await sendJson(`${authority.url}/api/v1/satellite-sync/register`, {
      body: {
        format: 'smartlic-sync/1',
        kind: 'registration-request',
        payload: { token: created.token, pad: 'x'.repeat(70_000) },
      },
    });
    expect(padded.status).toBe(413);
    expect(padded.body).toEqual({
      code: 'BODY_TOO_LARGE',
      message: 'The request body is too large (the limit is 64 KiB).',
      requestId: expect.any(String),
    });
    expect(await state()).toEqual(before);
  });

  it('limits network syncs per address before the body is parsed, and per satellite after', async () => {
    const { authority, created, state } = await start({ satelliteSync: 4, satelliteSyncPerSatellite: 2 });
    const before = await state();
    const sync = (body: unknown) =>
      sendJson<{ code: string; message: string }>(`${authority.url}/api/v1/satellite-sync/sync`, {
        ...(typeof body === 'string' ? { rawBody: body } : { body }),
      });
    const forged = (satelliteId: string) => ({
      format: 'smartlic-sync/2',
      kind: 'sync-request',
      payload: { satelliteId },
      signature: { alg: 'ES256', value: 'AA' },
    });
    // Per satellite: two refusals of a forged request for sat1, then 429; another satellite id is counted apart.
    const first = await sync(forged(created.id));
    expect(first.status).toBe(409);
    expect(first.body.code).toBe('SYNC_REFUSED');
    expect((await sync(forged(created.id))).status).toBe(409);
    const limited = await sync(forged(created.id));
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('RATE_LIMITED');
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await sync(forged('another-satellite'))).status).toBe(409);
    // Per address (4 a minute): the fifth is refused before its body is read — not even as malformed JSON.
    const flood = await sync('{ this is not JSON');
    expect(flood.status).toBe(429);
    expect(flood.body.code).toBe('RATE_LIMITED');
    const register = await sendJson<{ code: string }>(`${authority.url}/api/v1/satellite-sync/register`, {
      body: forged(created.id),
    });
    expect(register.status).toBe(429);
    expect(await state()).toEqual(before);
  });
});
