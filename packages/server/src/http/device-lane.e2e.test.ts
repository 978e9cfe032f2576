import { randomUUID } from 'node:crypto';
import { Agent, type IncomingHttpHeaders, request } from 'node:http';
import { DEVICE_ROUTES, type Envelope, generateKeyPair } from '@smartlic/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendJson } from '../test-support/http.js';
import { scrapeMetrics, sumOf } from '../test-support/metrics.js';
import { describeEachEngine } from '../test-support/postgres.js';
import type { SimDevice } from '../test-support/sim-device.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';
import { SMART_TRANSPORT_PREFIX } from './app.js';

const TAG = 'regid.2026-01.com.example.Lane_1.0';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type Payload = Record<string, unknown>;

/** A request as a case builds it, fresh (a new nonce) each time it is sent. */
interface LaneRequest {
  /** The envelope, when the body is one (a success is checked as an agent checks it). */
  envelope?: Envelope<Payload>;
  rawBody: string;
}

describeEachEngine('the device lane answers renewals as fastify does', (engine) => {
  let t: TestServer;
  let device: SimDevice;

  beforeAll(async () => {
    t = await startTestServer({ engine });
    const { vaId } = await t.admin.setupVa('Lane');
    await t.admin.addLicense(vaId, { tag: TAG, count: 10 });
    const token = (await t.admin.createToken(vaId)).token;
    device = t.device('C9300-24UX');
    expect((await device.register(token)).status).toBe(200);
  });
  afterAll(async () => {
    await t.dispose();
  });

  const envelopeRequest = (envelope: Envelope<Payload>): LaneRequest => ({
    envelope,
    rawBody: JSON.stringify(envelope),
  });
  const usage = [{ tag: TAG, count: 1 }];
  const cases: Array<[string, () => LaneRequest]> = [
    ['a renewal', () => envelopeRequest(device.authorizeEnvelope(usage))],
    ['malformed JSON', () => ({ rawBody: '{"payload":' })],
    ['a body of white space only', () => ({ rawBody: '  ' })],
    ['a JSON array', () => ({ rawBody: '[]' })],
    ['prototype poisoning', () => ({ rawBody: '{"__proto__":{"polluted":true},"payload":{}}' })],
    [
      'a signature by another key',
      () =>
        envelopeRequest(
          device.sign(device.identified('authorize', { entitlements: usage }), generateKeyPair('ES256').privateKey),
        ),
    ],
    [
      'an unknown instance',
      () =>
        envelopeRequest(device.sign(device.identified('authorize', { entitlements: usage, instanceId: randomUUID() }))),
    ],
    [
      'a clock a day off',
      () =>
        envelopeRequest(
          device.sign(device.identified('authorize', { entitlements: usage, timestamp: t.clock.now() - 86_400_000 })),
        ),
    ],
    ['no entitlements', () => envelopeRequest(device.sign(device.identified('authorize')))],
    [
      'a field of the wrong type',
      () => envelopeRequest(device.sign(device.identified('authorize', { entitlements: 'all' }))),
    ],
  ];

  const lanePath = DEVICE_ROUTES.authorize;
  // The same route with a query string: fastify's router matches it, the lane does not take it.
  const frameworkPath = `${DEVICE_ROUTES.authorize}?via=framework`;
  const send = (path: string, request: LaneRequest) =>
    sendJson(`${t.url}${path}`, { method: 'POST', rawBody: request.rawBody });
  const laneCount = async (route: string): Promise<number> =>
    sumOf(await scrapeMetrics(t.url), 'smartlic_device_lane_requests_total', { route });

  for (const [name, build] of cases) {
    it(`${name}: the same status, body and headers either way`, async () => {
      const before = await laneCount(lanePath);
      const viaLaneRequest = build();
      const viaLane = await send(lanePath, viaLaneRequest);
      expect(await laneCount(lanePath)).toBe(before + 1);
      const viaFrameworkRequest = build();
      const viaFramework = await send(frameworkPath, viaFrameworkRequest);
      expect(await laneCount(lanePath)).toBe(before + 1);

      expect(viaLane.status, JSON.stringify(viaLane.body)).toBe(viaFramework.status);
      expect(viaLane.headers.get('content-type')).toBe(viaFramework.headers.get('content-type'));
      expect(viaLane.headers.get('retry-after')).toBe(viaFramework.headers.get('retry-after'));
      if (viaLane.status === 200) {
        const lanePayload = device.verify(viaLane, 'authorize', viaLaneRequest.envelope!);
        const frameworkPayload = device.verify(viaFramework, 'authorize', viaFrameworkRequest.envelope!);
        expect(lanePayload.status).toBe(frameworkPayload.status);
        expect(Object.keys(lanePayload).sort()).toEqual(Object.keys(frameworkPayload).sort());
        return;
      }
      const { requestId: laneId, ...laneError } = viaLane.body as { requestId: string };
      const { requestId: frameworkId, ...frameworkError } = viaFramework.body as { requestId: string };
      expect(laneId).toMatch(UUID);
      expect(frameworkId).toMatch(UUID);
      expect(laneError).toEqual(frameworkError);
    });
  }

  it('a replayed renewal is refused on the lane as by fastify, and changes nothing', async () => {
    const envelope = device.authorizeEnvelope(usage);
    expect((await send(lanePath, envelopeRequest(envelope))).status).toBe(200);
    const again = await send(lanePath, envelopeRequest(envelope));
    const againViaFramework = await send(frameworkPath, envelopeRequest(envelope));
    expect(again.status).toBe(409);
    expect((again.body as { code: string }).code).toBe('REPLAYED_NONCE');
    expect(againViaFramework.status).toBe(409);
    expect((againViaFramework.body as { code: string }).code).toBe('REPLAYED_NONCE');
  });

  it('the transport prefix is answered by the lane too; other headers go to fastify', async () => {
    const prefixed = `${SMART_TRANSPORT_PREFIX}${DEVICE_ROUTES.authorize}`;
    const before = await laneCount(prefixed);
    const request = envelopeRequest(device.authorizeEnvelope(usage));
    const answer = await send(prefixed, request);
    expect(answer.status).toBe(200);
    device.verify(answer, 'authorize', request.envelope!);
    expect(await laneCount(prefixed)).toBe(before + 1);

    const laneBefore = await laneCount(lanePath);
    // Another content type: fastify refuses it, as before the lane.
    const text = await sendJson(`${t.url}${lanePath}`, {
      method: 'POST',
      rawBody: JSON.stringify(device.authorizeEnvelope(usage)),
      headers: { 'content-type': 'application/xml' },
    });
    expect(text.status).toBe(400);
    expect((text.body as { message: string }).message).toContain('Content-Type');
    // Another spelling of JSON: fastify takes it, and the renewal succeeds.
    const spelled = envelopeRequest(device.authorizeEnvelope(usage));
    const viaFramework = await sendJson(`${t.url}${lanePath}`, {
      method: 'POST',
      rawBody: spelled.rawBody,
      headers: { 'content-type': 'Application/JSON;charset=UTF-8' },
    });
    expect(viaFramework.status).toBe(200);
    device.verify(viaFramework, 'authorize', spelled.envelope!);
    expect(await laneCount(lanePath)).toBe(laneBefore);
  });

  it('counts its answers in the request metrics as fastify does', async () => {
    const metric = async () =>
      sumOf(await scrapeMetrics(t.url), 'smartlic_device_messages_total', {
        type: 'authorize',
        outcome: 'MALFORMED_JSON',
      });
    const before = await metric();
    expect((await send(lanePath, { rawBody: '{' })).status).toBe(400);
    expect(await metric()).toBe(before + 1);
    expect((await send(frameworkPath, { rawBody: '{' })).status).toBe(400);
    expect(await metric()).toBe(before + 2);
  });
});

describe('requests the lane never takes', () => {
  it('while the server closes, renewals are answered 503 by fastify, as every other request', async () => {
    const t = await startTestServer();
    const { vaId } = await t.admin.setupVa('Closing');
    const device = t.device('C9300-24UX');
    expect((await device.register((await t.admin.createToken(vaId)).token)).status).toBe(200);
    // One keep-alive connection, so that requests after the listening socket closes still arrive.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const post = (body: string) =>
      new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
        const req = request(`${t.url}${DEVICE_ROUTES.authorize}`, {
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        });
        req.on('response', (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => {
            text += chunk.toString('utf8');
          });
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }),
          );
        });
        req.on('error', reject);
        req.end(body);
      });
    try {
      expect((await post(JSON.stringify(device.authorizeEnvelope([{ tag: TAG, count: 1 }])))).status).toBe(200);
      const stopping = t.stop();
      let refused: { status: number; headers: IncomingHttpHeaders; body: string } | undefined;
      for (let i = 0; i < 50 && !refused; i++) {
        const answer = await post(JSON.stringify(device.authorizeEnvelope([{ tag: TAG, count: 1 }])));
        if (answer.status !== 200) refused = answer;
      }
      await stopping;
      expect(refused?.status).toBe(503);
      expect(JSON.parse(refused?.body ?? '{}').code).toBe('SERVER_BUSY');
      expect(refused?.headers['retry-after']).toBe('1');
      expect(refused?.headers.connection).toBe('close');
    } finally {
      agent.destroy();
      await t.dispose();
    }
  });

  it('a body over the limit is refused by fastify with 413, unread', async () => {
    const t = await startTestServer();
    try {
      const answer = await sendJson(`${t.url}${DEVICE_ROUTES.authorize}`, {
        method: 'POST',
        rawBody: `{"pad":"${'x'.repeat(70 * 1024)}"}`,
      });
      expect(answer.status).toBe(413);
      expect((answer.body as { code: string }).code).toBe('BODY_TOO_LARGE');
    } finally {
      await t.dispose();
    }
  });
});
