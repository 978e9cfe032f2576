import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../test-support/admin-client.js';
import { describeEachEngine } from '../../test-support/postgres.js';
import { testResolver } from '../../test-support/test-resolver.js';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';
import { COARSE_DELIVERY_ERROR } from './webhook-service.js';

/** A receiver on 127.0.0.1 answering `status`, counting what it got. */
async function startReceiver(status: number) {
  const received: string[] = [];
  const server = createServer((request, response) => {
    received.push(request.headers.host ?? '');
    request.resume();
    request.on('end', () => {
      response.statusCode = status;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface DeliveryBody {
  status: string;
  attempts: number;
  lastError: string | null;
}

const PRIVATE_URLS = [
  ['http://127.0.0.1:9/hook', '127.0.0.1', 'loopback'],
  ['http://10.0.0.1/hook', '10.0.0.1', 'private'],
  ['http://169.254.169.254/latest/meta-data/', '169.254.169.254', 'link-local'],
  ['http://[::1]:9/hook', '::1', 'loopback'],
  ['http://localhost:9/hook', 'localhost', 'loopback'],
  ['http://2130706433/hook', '127.0.0.1', 'loopback'],
] as const;

/** Users with a role on `accountId`, each with their own client. */
async function usersOf(t: TestServer, accountId: string, tag: string) {
  const client = async (role: string) => {
    const user = await t.admin.ok<{ apiKey: string }>('POST', '/api/v1/users', {
      email: `${role}-${tag}@hooks.example`,
      accountId,
      role,
    });
    return new AdminClient(t.url, user.apiKey);
  };
  return { admin: await client('admin'), user: await client('user'), viewer: await client('viewer') };
}

describeEachEngine('webhook targets without --webhook-allow-private', (engine) => {
  let t: TestServer;
  let accountId: string;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    t = await startTestServer({
      engine,
      // The one name that resolves: to this machine, as a rebinding attacker's DNS would answer.
      webhookResolver: testResolver({ 'rebound.test': ['127.0.0.1'] }),
    });
    accountId = (await t.admin.createAccount('Guarded')).id;
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  afterAll(async () => t.dispose());

  it.each(PRIVATE_URLS)('refuses to add %s', async (url, host, kind) => {
    const answer = await t.admin.request<{ code: string; message: string; requestId: string }>(
      'POST',
      `/api/v1/accounts/${accountId}/webhooks`,
      { url },
    );
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({
      code: 'BAD_REQUEST',
      message: `The webhook URL points at ${host}, a ${kind} address: webhooks may only reach public addresses unless the server runs with --webhook-allow-private.`,
    });
    expect(answer.body.requestId).toEqual(expect.any(String));
  });

  it('refuses credentials in a URL, accepts a public address, and keeps nothing refused', async () => {
    const refused = await t.admin.request<{ message: string }>('POST', `/api/v1/accounts/${accountId}/webhooks`, {
      url: 'https://alice:s3cret@hooks.example.com/x',
    });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toMatch(/^The webhook URL must not carry credentials \(user:password@\)/);
    expect(refused.body.message).not.toContain('s3cret');

    // Creation only: this test server resolves no public name, so nothing is ever sent off this machine.
    const hook = await t.admin.ok<{ id: string; url: string }>('POST', `/api/v1/accounts/${accountId}/webhooks`, {
      url: 'https://hooks.example.com/x',
    });
    expect(hook.url).toBe('https://hooks.example.com/x');
    const listed = await t.admin.ok<Array<{ url: string }>>('GET', `/api/v1/accounts/${accountId}/webhooks`);
    expect(listed.map((w) => w.url)).toEqual(['https://hooks.example.com/x']);
    const events = await t.admin.ok<{ items: Array<{ type: string }> }>('GET', `/api/v1/accounts/${accountId}/events`);
    expect(events.items.filter((e) => e.type === 'webhook.added')).toHaveLength(1);
    await t.admin.ok('DELETE', `/api/v1/webhooks/${hook.id}`, undefined, 204);
  });

  it('refuses at delivery a name that resolves to a private address, and tells non-admins only that it failed', async () => {
    const receiver = await startReceiver(204);
    cleanups.push(receiver.close);
    const { id: account } = await t.admin.createAccount('Rebound');
    const people = await usersOf(t, account, 'rebound');
    const hook = await people.admin.ok<{ id: string }>('POST', `/api/v1/accounts/${account}/webhooks`, {
      url: `http://rebound.test:${receiver.port}/hook`,
    });
    await people.admin.ok('POST', `/api/v1/webhooks/${hook.id}/test`, undefined, 202);
    expect(await t.server.webhookJobs.runDue()).toMatchObject({ delivered: 0, failed: 1 });
    expect(receiver.received).toEqual([]);

    const path = `/api/v1/webhooks/${hook.id}/deliveries`;
    const [detailed] = await people.admin.ok<DeliveryBody[]>('GET', path);
    expect(detailed).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastError:
        'refused: rebound.test is 127.0.0.1, a loopback address; webhooks may only reach public addresses unless the server runs with --webhook-allow-private',
    });
    expect((await t.admin.ok<DeliveryBody[]>('GET', path))[0]?.lastError).toBe(detailed?.lastError);
    for (const reader of [people.user, people.viewer]) {
      const [coarse] = await reader.ok<DeliveryBody[]>('GET', path);
      expect(coarse).toMatchObject({ status: 'pending', attempts: 1, lastError: COARSE_DELIVERY_ERROR });
    }
  });

  it('shows URLs stored with credentials before they were refused as ***@, in lists and the event log', async () => {
    const { id: account } = await t.admin.createAccount('Legacy');
    const LEGACY_ID = '11111111-1111-4111-8111-111111111111';
    const LEGACY_URL = 'https://alice:s3cret@hooks.example.com/x';
    await t.inspect(async (db) => {
      await db
        .insertInto('webhooks')
        .values({
          id: LEGACY_ID,
          account_id: account,
          url: LEGACY_URL,
          secret: 'plain:x',
          events: '[]',
          created_at: 1,
          disabled: 0,
        })
        .execute();
      await db
        .insertInto('events')
        .values({
          id: 'legacy-event',
          at: 1,
          actor: 'key:owner',
          type: 'webhook.added',
          account_id: account,
          va_id: null,
          detail: JSON.stringify({ webhookId: LEGACY_ID, url: LEGACY_URL }),
        })
        .execute();
    });
    const viewer = (await usersOf(t, account, 'legacy')).viewer;
    const listed = await viewer.ok<Array<{ url: string }>>('GET', `/api/v1/accounts/${account}/webhooks`);
    expect(listed.map((w) => w.url)).toEqual(['https://***@hooks.example.com/x']);
    await t.admin.ok('DELETE', `/api/v1/webhooks/${LEGACY_ID}`, undefined, 204);
    const events = await viewer.ok<{ items: Array<{ type: string; detail: { url?: string } }> }>(
      'GET',
      `/api/v1/accounts/${account}/events?type=webhook.added,webhook.removed`,
    );
    expect(events.items.map((e) => [e.type, e.detail.url])).toEqual([
      ['webhook.removed', 'https://***@hooks.example.com/x'],
      ['webhook.added', 'https://***@hooks.example.com/x'],
    ]);
  });
});

describe('webhook targets with --webhook-allow-private', () => {
  let t: TestServer;
  let accountId: string;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    t = await startTestServer({
      webhookAllowPrivate: true,
      webhookResolver: testResolver({ 'receiver.test': ['127.0.0.1'] }),
    });
    accountId = (await t.admin.createAccount('Open')).id;
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  afterAll(async () => t.dispose());

  it.each(PRIVATE_URLS)('adds %s', async (url) => {
    const hook = await t.admin.ok<{ id: string; url: string }>('POST', `/api/v1/accounts/${accountId}/webhooks`, {
      url,
      events: ['summary.daily'],
    });
    expect(hook.url).toBe(url);
    await t.admin.ok('DELETE', `/api/v1/webhooks/${hook.id}`, undefined, 204);
  });

  it('still refuses credentials in a URL', async () => {
    const answer = await t.admin.request('POST', `/api/v1/accounts/${accountId}/webhooks`, {
      url: 'http://user:pass@127.0.0.1:9/hook',
    });
    expect(answer.status).toBe(400);
  });

  it('delivers to a name resolved to 127.0.0.1, connecting to the resolved address', async () => {
    const receiver = await startReceiver(204);
    cleanups.push(receiver.close);
    const { id: account } = await t.admin.createAccount('Local');
    const hook = await t.admin.ok<{ id: string }>('POST', `/api/v1/accounts/${account}/webhooks`, {
      url: `http://receiver.test:${receiver.port}/hook`,
    });
    await t.admin.ok('POST', `/api/v1/webhooks/${hook.id}/test`, undefined, 202);
    expect(await t.server.webhookJobs.runDue()).toMatchObject({ delivered: 1, failed: 0 });
    // The request went to 127.0.0.1 but still names the webhook's host.
    expect(receiver.received).toEqual([`receiver.test:${receiver.port}`]);
  });

  it('lets only admins test-fire, and shows HTTP statuses and network errors to admins only', async () => {
    const receiver = await startReceiver(401);
    cleanups.push(receiver.close);
    const { id: account } = await t.admin.createAccount('Probed');
    const people = await usersOf(t, account, 'probed');
    const add = (url: string) =>
      people.admin.ok<{ id: string }>('POST', `/api/v1/accounts/${account}/webhooks`, { url });
    const answered = await add(`http://127.0.0.1:${receiver.port}/hook`);
    const refusedPort = await add('http://127.0.0.1:9/hook');

    for (const reader of [people.user, people.viewer]) {
      const denied = await reader.request<{ code: string }>('POST', `/api/v1/webhooks/${answered.id}/test`);
      expect(denied.status).toBe(403);
      expect(denied.body.code).toBe('FORBIDDEN');
    }
    await people.admin.ok('POST', `/api/v1/webhooks/${answered.id}/test`, undefined, 202);
    await people.admin.ok('POST', `/api/v1/webhooks/${refusedPort.id}/test`, undefined, 202);
    expect(await t.server.webhookJobs.runDue()).toMatchObject({ delivered: 0, failed: 2 });
    expect(receiver.received).toHaveLength(1);

    const lastError = async (client: AdminClient, id: string) =>
      (await client.ok<DeliveryBody[]>('GET', `/api/v1/webhooks/${id}/deliveries`))[0]?.lastError;
    expect(await lastError(people.admin, answered.id)).toBe('HTTP 401');
    expect(await lastError(people.admin, refusedPort.id)).toMatch(/ECONNREFUSED/);
    for (const reader of [people.user, people.viewer]) {
      expect(await lastError(reader, answered.id)).toBe(COARSE_DELIVERY_ERROR);
      expect(await lastError(reader, refusedPort.id)).toBe(COARSE_DELIVERY_ERROR);
    }
  });
});
