import { DEVICE_ROUTES, type ErrorBody } from '@smartlic/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { JsonAnswer } from '../test-support/http.js';
import { sendJson } from '../test-support/http.js';
import { errorOf } from '../test-support/sim-device.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';
import type { RateLimits } from './rate-limits.js';

const TAG = 'regid.2014-08.com.example.A';

/** A 429 as documented: `Retry-After` in seconds within the one-minute window, and the error body. */
function expectLimited(answer: JsonAnswer): void {
  expect(answer.status).toBe(429);
  const retryAfter = Number(answer.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  const body = errorOf(answer);
  expect(body).toEqual({
    code: 'RATE_LIMITED',
    message: `Too many requests from this client: wait ${retryAfter} seconds, then try again.`,
    requestId: expect.any(String),
  } satisfies ErrorBody);
}

describe('rate limits', () => {
  let t: TestServer;
  afterEach(async () => {
    await t.dispose();
  });

  async function start(limits: Partial<RateLimits> | 'off'): Promise<{ vaId: string; accountId: string }> {
    t = await startTestServer({ rateLimits: limits });
    return t.admin.setupVa();
  }

  it('lets a burst of registrations under the limit through, all of them', async () => {
    const { vaId } = await start({ register: 40 });
    const token = (await t.admin.createToken(vaId)).token;
    const answers = await Promise.all(Array.from({ length: 40 }, () => t.device().register(token)));
    expect(answers.map((a) => a.status)).toEqual(Array(40).fill(200));
    expect(await t.admin.listInstances(vaId)).toHaveLength(40);
  });

  it('answers most of 300 registrations from one address in a burst with 429, and registers only the allowed', async () => {
    const { vaId } = await start({ register: 20 });
    const token = (await t.admin.createToken(vaId)).token;
    const devices = Array.from({ length: 300 }, () => t.device());
    const envelopes = await Promise.all(devices.map((d) => d.registerEnvelope(token)));
    const answers = await Promise.all(devices.map((d, i) => d.send(DEVICE_ROUTES.register, envelopes[i])));
    const ok = answers.filter((a) => a.status === 200);
    const limited = answers.filter((a) => a.status === 429);
    expect(ok).toHaveLength(20);
    expect(limited).toHaveLength(280);
    for (const answer of limited) expectLimited(answer);
    expect(await t.admin.listInstances(vaId)).toHaveLength(20);
    expect((await t.admin.listTokens(vaId))[0]?.uses).toBe(20);
  });

  it('limits registrations per token, whatever the address', async () => {
    const { vaId } = await start({ register: 100, registerPerToken: 3 });
    const busy = (await t.admin.createToken(vaId)).token;
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await t.device().register(busy)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    // Another token from the same address is counted apart.
    const other = (await t.admin.createToken(vaId)).token;
    expect((await t.device().register(other)).status).toBe(200);
    expect(await t.admin.listInstances(vaId)).toHaveLength(4);
  });

  it('answers 300 registrations with unknown tokens 429 after the failed-authentication limit, even with a good token', async () => {
    const { vaId } = await start({ authFailures: 10 });
    const good = (await t.admin.createToken(vaId)).token;
    const devices = Array.from({ length: 300 }, () => t.device());
    const envelopes = await Promise.all(devices.map((d, i) => d.registerEnvelope(`bogus-${i}`)));
    const statuses: number[] = [];
    // One after the other: a failure is counted once it is answered, so concurrent guesses overshoot a little.
    for (const [i, d] of devices.entries()) statuses.push((await d.send(DEVICE_ROUTES.register, envelopes[i])).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(403));
    expect(statuses.slice(10)).toEqual(Array(290).fill(429));
    // The address is held off for the rest of the window, whatever it presents (the admin API too).
    expectLimited(await t.device().register(good));
    expectLimited(await t.admin.request('GET', `/api/v1/virtual-accounts/${vaId}/instances`));
    expect(await t.inspect((db) => db.selectFrom('instances').select('id').execute())).toEqual([]);
  });

  it('answers a flood of wrong API keys 429 after the limit, then refuses the address whatever key it shows', async () => {
    await start({ authFailures: 5 });
    const wrong = (i: number) =>
      sendJson(`${t.url}/api/v1/accounts`, { headers: { authorization: `Bearer sk_wrong_${i}` } });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await wrong(i)).status);
    expect(statuses).toEqual([...Array(5).fill(401), ...Array(7).fill(429)]);
    expectLimited(await wrong(99));
    expectLimited(await t.admin.request('GET', '/api/v1/accounts'));
    // Requests without any key are not guesses and are not counted (but the address stays held off).
    expect((await sendJson(`${t.url}/api/v1/health`)).status).toBe(200);
  });

  it('limits admin requests per API key, counting each key apart', async () => {
    const { accountId } = await start({ admin: 8 });
    const user = await t.admin.ok<{ apiKey: string }>('POST', '/api/v1/users', {
      email: 'ann@example.com',
      accountId,
      role: 'admin',
    });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await t.admin.request('GET', '/api/v1/accounts')).status);
    // 3 owner-key requests were spent on setup and user creation.
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    expectLimited(await t.admin.request('GET', '/api/v1/accounts'));
    const asUser = await sendJson(`${t.url}/api/v1/accounts`, { headers: { authorization: `Bearer ${user.apiKey}` } });
    expect(asUser.status).toBe(200);
  });

  it('limits other device messages per product instance, not per address', async () => {
    const { vaId } = await start({ device: 3 });
    await t.admin.addLicense(vaId, { tag: TAG, count: 10 });
    const token = (await t.admin.createToken(vaId)).token;
    const busy = t.device();
    const quiet = t.device();
    expect((await busy.register(token)).status).toBe(200);
    expect((await quiet.register(token)).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await busy.authorize([{ tag: TAG, count: 1 + i }])).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await busy.authorize([{ tag: TAG, count: 9 }]);
    expectLimited(limited);
    // The refused request changed nothing; the other device on the same address is untouched.
    expect(await t.admin.listLicenses(vaId)).toMatchObject([{ tag: TAG, inUse: 3 }]);
    expect((await quiet.authorize([{ tag: TAG, count: 2 }])).status).toBe(200);
    expect((await quiet.renewId()).status).toBe(200);
  });

  it('has no limits when turned off', async () => {
    const { vaId } = await start('off');
    const token = (await t.admin.createToken(vaId)).token;
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await t.device().register(`bogus-${i}`)).status);
    // Beyond the default of 30 failed authentications a minute, still refused for the token only.
    expect(statuses).toEqual(Array(40).fill(403));
    expect((await t.device().register(token)).status).toBe(200);
  });
});
