import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DAY, MINUTE } from '@smartlic/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../../test-support/postgres.js';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';
import { DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhookSignature } from './webhook-signature.js';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  answered: number;
}

/** A receiver on 127.0.0.1 that answers 500 to the first `failures` requests, then 204. */
async function startReceiver(failures: number): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const answered = received.length < failures ? 500 : 204;
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), answered });
      response.statusCode = answered;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface DeliveryBody {
  id: string;
  eventType: string;
  status: string;
  attempts: number;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  lastError: string | null;
  payload: { type: string; counts?: Record<string, number>; total?: number };
}

describeEachEngine('webhooks', (engine) => {
  let t: TestServer;
  let accountId: string;
  const secret = 'a-shared-secret-of-the-receiver';

  beforeAll(async () => {
    // The receivers listen on 127.0.0.1.
    t = await startTestServer({ engine, webhookAllowPrivate: true });
    t.clock.set(Date.UTC(2027, 0, 10, 12, 0, 0));
    accountId = (await t.admin.createAccount('Hooks', 'hooks.example.com')).id;
  });
  afterAll(async () => t.dispose());

  it('signs deliveries, retries a failing receiver with backoff and delivers once it recovers', async () => {
    const receiver = await startReceiver(2);
    try {
      const hook = await t.admin.ok<{ id: string; secret: string; events: string[] }>(
        'POST',
        `/api/v1/accounts/${accountId}/webhooks`,
        { url: receiver.url, secret },
      );
      expect(hook.secret).toBe(secret);
      const start = t.clock.now();
      const queued = await t.admin.ok<DeliveryBody>('POST', `/api/v1/webhooks/${hook.id}/test`, undefined, 202);
      expect(queued).toMatchObject({ status: 'pending', attempts: 0 });

      const jobs = t.server.webhookJobs;
      await jobs.runDue();
      expect(receiver.received).toHaveLength(1);
      let [delivery] = await t.admin.ok<DeliveryBody[]>('GET', `/api/v1/webhooks/${hook.id}/deliveries`);
      expect(delivery).toMatchObject({ status: 'pending', attempts: 1, lastError: 'HTTP 500' });
      expect(delivery?.nextAttemptAt).toBe(new Date(start + MINUTE).toISOString());

      t.clock.advance(59_000); // not yet due
      await jobs.runDue();
      expect(receiver.received).toHaveLength(1);

      t.clock.advance(1_000);
      await jobs.runDue();
      expect(receiver.received).toHaveLength(2);
      [delivery] = await t.admin.ok<DeliveryBody[]>('GET', `/api/v1/webhooks/${hook.id}/deliveries`);
      expect(delivery).toMatchObject({ status: 'pending', attempts: 2 });
      expect(delivery?.nextAttemptAt).toBe(new Date(start + 3 * MINUTE).toISOString());

      t.clock.advance(2 * MINUTE);
      await jobs.runDue();
      expect(receiver.received.map((r) => r.answered)).toEqual([500, 500, 204]);
      [delivery] = await t.admin.ok<DeliveryBody[]>('GET', `/api/v1/webhooks/${hook.id}/deliveries`);
      expect(delivery).toMatchObject({ status: 'delivered', attempts: 3, nextAttemptAt: null, lastError: null });
      expect(delivery?.deliveredAt).toBe(new Date(start + 3 * MINUTE).toISOString());

      // Every attempt carries the same delivery id and a valid signature of its raw body.
      for (const r of receiver.received) {
        expect(r.headers[DELIVERY_HEADER]).toBe(queued.id);
        expect(verifyWebhookSignature(secret, r.body, r.headers[SIGNATURE_HEADER] as string)).toBe(true);
        expect(verifyWebhookSignature('another-secret-entirely', r.body, r.headers[SIGNATURE_HEADER] as string)).toBe(
          false,
        );
        expect(Number(r.headers[TIMESTAMP_HEADER])).toBeGreaterThanOrEqual(start);
        expect(JSON.parse(r.body)).toMatchObject({ id: queued.id, type: 'webhook.test', accountId });
      }

      // Delivered once: later runs send nothing more.
      t.clock.advance(2 * 60 * MINUTE);
      await jobs.runDue();
      await jobs.runDue();
      expect(receiver.received.filter((r) => r.headers[DELIVERY_HEADER] === queued.id)).toHaveLength(3);

      await t.admin.ok('DELETE', `/api/v1/webhooks/${hook.id}`, undefined, 204);
      expect(await t.admin.ok<unknown[]>('GET', `/api/v1/accounts/${accountId}/webhooks`)).toEqual([]);
    } finally {
      await receiver.close();
    }
  });

  it('gives a delivery up after 10 failed attempts', async () => {
    const receiver = await startReceiver(1000);
    try {
      const hook = await t.admin.ok<{ id: string }>('POST', `/api/v1/accounts/${accountId}/webhooks`, {
        url: receiver.url,
        events: ['instance.silent'],
      });
      await t.admin.ok('POST', `/api/v1/webhooks/${hook.id}/test`, undefined, 202);
      for (let i = 0; i < 12; i++) {
        await t.server.webhookJobs.runDue();
        t.clock.advance(60 * MINUTE);
      }
      expect(receiver.received).toHaveLength(10);
      const [delivery] = await t.admin.ok<DeliveryBody[]>('GET', `/api/v1/webhooks/${hook.id}/deliveries`);
      expect(delivery).toMatchObject({ status: 'failed', attempts: 10, nextAttemptAt: null, lastError: 'HTTP 500' });
      await t.admin.ok('DELETE', `/api/v1/webhooks/${hook.id}`, undefined, 204);
    } finally {
      await receiver.close();
    }
  });

  it('queues a daily event summary once per day', async () => {
    const receiver = await startReceiver(0);
    try {
      const summarised = await t.admin.createAccount('Summarised', 'summarised.example.com');
      const hook = await t.admin.ok<{ id: string }>('POST', `/api/v1/accounts/${summarised.id}/webhooks`, {
        url: receiver.url,
        events: ['summary.daily'],
      });
      await t.admin.createVa(summarised.id, 'Summarised');
      await t.server.webhookJobs.runDue();
      expect(receiver.received).toHaveLength(0); // the day is not over

      t.clock.set(Math.floor(t.clock.now() / DAY) * DAY + DAY + MINUTE);
      await t.server.webhookJobs.runDue();
      await t.server.webhookJobs.runDue();
      expect(receiver.received).toHaveLength(1);
      const summary = JSON.parse(receiver.received[0]!.body) as {
        type: string;
        total: number;
        counts: Record<string, number>;
      };
      expect(summary.type).toBe('summary.daily');
      expect(summary.counts['webhook.added']).toBeGreaterThanOrEqual(1);
      expect(summary.total).toBeGreaterThanOrEqual(1);
      const deliveries = await t.admin.ok<DeliveryBody[]>('GET', `/api/v1/webhooks/${hook.id}/deliveries`);
      expect(deliveries.map((d) => [d.eventType, d.status])).toEqual([['summary.daily', 'delivered']]);
    } finally {
      await receiver.close();
    }
  });

  it('queues an alert in the transaction of its event: Insufficient Licenses', async () => {
    const receiver = await startReceiver(0);
    try {
      const other = await t.admin.createAccount('Alerted', 'alerted.example.com');
      const va = await t.admin.createVa(other.id, 'Shortage');
      const hook = await t.admin.ok<{ id: string }>('POST', `/api/v1/accounts/${other.id}/webhooks`, {
        url: receiver.url,
        events: ['instance.compliance-changed'],
      });
      const token = await t.admin.createToken(va.id);
      const device = t.device();
      expect((await device.register(token.token)).status).toBe(200);
      expect((await device.authorize([{ tag: 'regid.shortage', count: 2 }])).status).toBe(200);
      const [queued] = await t.admin.ok<DeliveryBody[]>('GET', `/api/v1/webhooks/${hook.id}/deliveries`);
      expect(queued).toMatchObject({ eventType: 'instance.compliance-changed', status: 'pending' });
      await t.server.webhookJobs.runDue();
      expect(receiver.received).toHaveLength(1);
      expect(JSON.parse(receiver.received[0]!.body)).toMatchObject({
        type: 'instance.compliance-changed',
        accountId: other.id,
        vaId: va.id,
        detail: { to: 'OutOfCompliance' },
      });
    } finally {
      await receiver.close();
    }
  });

  it('refuses URLs that are not http(s) and unknown event types', async () => {
    const base = `/api/v1/accounts/${accountId}/webhooks`;
    expect((await t.admin.request('POST', base, { url: 'ftp://127.0.0.1/x' })).status).toBe(400);
    expect((await t.admin.request('POST', base, { url: 'http://127.0.0.1/x', events: ['nope'] })).status).toBe(400);
    expect((await t.admin.request('DELETE', '/api/v1/webhooks/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });
});
