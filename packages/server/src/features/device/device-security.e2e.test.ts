import { createCsr, DAY, DEVICE_ROUTES, generateKeyPair, HOUR, signEnvelope } from '@smartlic/protocol';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { sendJson } from '../../test-support/http.js';
import { describeEachEngine } from '../../test-support/postgres.js';
import { errorOf, type SimDevice } from '../../test-support/sim-device.js';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';

const TAG = 'regid.2014-08.com.example.A';

describeEachEngine('device messages that must be refused', (engine) => {
  let t: TestServer;
  let vaId: string;
  let token: string;
  let device: SimDevice;

  beforeEach(async () => {
    t = await startTestServer({ engine });
    ({ vaId } = await t.admin.setupVa());
    await t.admin.addLicense(vaId, { tag: TAG, count: 10 });
    token = (await t.admin.createToken(vaId)).token;
    device = t.device();
    expect((await device.register(token)).status).toBe(200);
    expect((await device.authorize([{ tag: TAG, count: 2 }])).status).toBe(200);
  });
  afterEach(async () => {
    await t.dispose();
  });

  const inUse = async () => (await t.admin.listLicenses(vaId))[0]?.inUse;

  it('refuses an altered payload with "data and signature do not match"', async () => {
    const envelope = device.authorizeEnvelope([{ tag: TAG, count: 3 }]);
    const altered = { ...envelope, payload: { ...envelope.payload, entitlements: [{ tag: TAG, count: 9 }] } };
    const answer = await device.send(DEVICE_ROUTES.authorize, altered);
    expect(answer.status).toBe(401);
    expect(errorOf(answer)).toMatchObject({ code: 'SIGNATURE_MISMATCH', message: 'data and signature do not match' });
    expect(await inUse()).toBe(2);
  });

  it('refuses a message signed by another key', async () => {
    const envelope = device.sign(device.identified('authorize', { entitlements: [] }), generateKeyPair().privateKey);
    const answer = await device.send(DEVICE_ROUTES.authorize, envelope);
    expect(answer.status).toBe(401);
    expect(errorOf(answer).code).toBe('SIGNATURE_MISMATCH');
  });

  it('refuses a device clock two hours off with the vendor’s words in message and fields', async () => {
    for (const offset of [2 * HOUR, -2 * HOUR]) {
      const timestamp = t.clock.now() + offset;
      const envelope = device.sign(device.identified('authorize', { entitlements: [], timestamp }));
      const answer = await device.send(DEVICE_ROUTES.authorize, envelope);
      const message = `The device date '${timestamp}' is offset beyond the allowed tolerance limit.`;
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({
        code: 'CLOCK_OFFSET',
        message,
        fields: { timestamp: [message] },
        requestId: expect.any(String),
      });
    }
    // Within the tolerance is fine.
    const near = device.sign(
      device.identified('authorize', { entitlements: [{ tag: TAG, count: 2 }], timestamp: t.clock.now() - HOUR }),
    );
    expect((await device.send(DEVICE_ROUTES.authorize, near)).status).toBe(200);
  });

  it('refuses a replayed message and changes nothing', async () => {
    const envelope = device.authorizeEnvelope([{ tag: TAG, count: 5 }]);
    expect((await device.send(DEVICE_ROUTES.authorize, envelope)).status).toBe(200);
    expect(await inUse()).toBe(5);
    expect((await device.authorize([{ tag: TAG, count: 1 }])).status).toBe(200);
    const replay = await device.send(DEVICE_ROUTES.authorize, envelope);
    expect(replay.status).toBe(409);
    expect(errorOf(replay).code).toBe('REPLAYED_NONCE');
    expect(await inUse()).toBe(1);
  });

  it('refuses a replayed registration without creating anything', async () => {
    const other = t.device();
    const envelope = await other.registerEnvelope(token);
    expect((await other.send(DEVICE_ROUTES.register, envelope)).status).toBe(200);
    const tokensBefore = await t.admin.listTokens(vaId);
    const replay = await other.send(DEVICE_ROUTES.register, { ...envelope });
    expect(replay.status).toBe(409);
    expect(errorOf(replay).code).toBe('REPLAYED_NONCE');
    expect(await t.admin.listTokens(vaId)).toEqual(tokensBefore);
    expect(await t.admin.listInstances(vaId)).toHaveLength(2);
  });

  it('refuses malformed JSON', async () => {
    const answer = await sendJson(`${t.url}${DEVICE_ROUTES.authorize}`, { rawBody: '{"payload": {', method: 'POST' });
    expect(answer.status).toBe(400);
    expect(errorOf(answer)).toMatchObject({ code: 'MALFORMED_JSON', message: 'The request body is not valid JSON.' });
  });

  it('refuses a body over 64 KiB', async () => {
    const envelope = device.authorizeEnvelope([{ tag: TAG, count: 1 }]);
    const huge = { ...envelope, payload: { ...envelope.payload, padding: 'x'.repeat(70 * 1024) } };
    const answer = await device.send(DEVICE_ROUTES.authorize, huge);
    expect(answer.status).toBe(413);
    expect(errorOf(answer).code).toBe('BODY_TOO_LARGE');
  });

  it('refuses a signature that names the wrong algorithm', async () => {
    const envelope = device.authorizeEnvelope([{ tag: TAG, count: 1 }]);
    const answer = await device.send(DEVICE_ROUTES.authorize, {
      ...envelope,
      signature: { ...envelope.signature, alg: 'Ed25519' },
    });
    expect(answer.status).toBe(401);
    expect(errorOf(answer).code).toBe('SIGNATURE_MISMATCH');
  });

  it('refuses an algorithm it does not know', async () => {
    const envelope = device.authorizeEnvelope([{ tag: TAG, count: 1 }]);
    const answer = await device.send(DEVICE_ROUTES.authorize, {
      ...envelope,
      signature: { ...envelope.signature, alg: 'RS256' },
    });
    expect(answer.status).toBe(400);
    expect(errorOf(answer)).toMatchObject({
      code: 'UNSUPPORTED_ALGORITHM',
      fields: { 'signature.alg': expect.any(Array) },
    });
  });

  it('refuses a truncated signature', async () => {
    const envelope = device.authorizeEnvelope([{ tag: TAG, count: 1 }]);
    const answer = await device.send(DEVICE_ROUTES.authorize, {
      ...envelope,
      signature: { ...envelope.signature, value: envelope.signature.value.slice(0, 20) },
    });
    expect(answer.status).toBe(401);
    expect(errorOf(answer).code).toBe('SIGNATURE_MISMATCH');
  });

  it('refuses a message without the serial fields', async () => {
    const {
      idCertSerial: _a,
      signingCertSerial: _b,
      ...payload
    } = device.identified('authorize', { entitlements: [] });
    const answer = await device.send(DEVICE_ROUTES.authorize, device.sign(payload));
    expect(answer.status).toBe(400);
    expect(errorOf(answer)).toMatchObject({
      code: 'BAD_REQUEST',
      fields: { 'payload.idCertSerial': expect.any(Array), 'payload.signingCertSerial': expect.any(Array) },
    });
  });

  it('refuses serials that are not the current certificates with the vendor’s words', async () => {
    for (const wrong of [{ idCertSerial: '1abc' }, { signingCertSerial: '1abc' }]) {
      const answer = await device.send(
        DEVICE_ROUTES.authorize,
        device.sign(device.identified('authorize', { entitlements: [], ...wrong })),
      );
      expect(answer.status).toBe(401);
      expect(errorOf(answer)).toMatchObject({
        code: 'MISSING_SERIALS',
        message:
          'Missing ID Cert Serial Number Field; Missing Signing Cert Serial Number Field; Signed Data and Certificate do not match',
      });
    }
  });

  it('refuses an unknown instance', async () => {
    const payload = device.identified('authorize', { entitlements: [], instanceId: crypto.randomUUID() });
    const answer = await device.send(DEVICE_ROUTES.authorize, device.sign(payload));
    expect(answer.status).toBe(404);
    expect(errorOf(answer).code).toBe('UNKNOWN_INSTANCE');
  });

  it('refuses an instance whose ID certificate has expired', async () => {
    t.clock.advance(361 * DAY);
    // Keep the device's clock in step with the server's.
    const answer = await device.authorize([{ tag: TAG, count: 1 }]);
    expect(answer.status).toBe(401);
    expect(errorOf(answer).code).toBe('CERTIFICATE_EXPIRED');
  });

  it('refuses a message posted to the route of another type', async () => {
    const answer = await device.send(DEVICE_ROUTES.deregister, device.authorizeEnvelope([]));
    expect(answer.status).toBe(400);
    expect(errorOf(answer)).toMatchObject({ code: 'BAD_REQUEST', fields: { 'payload.type': expect.any(Array) } });
  });

  it('refuses bodies that are not envelopes, and other content types', async () => {
    for (const body of [[], 'text', { payload: {} }, null]) {
      const answer = await device.send(DEVICE_ROUTES.authorize, body);
      expect(answer.status).toBe(400);
      expect(errorOf(answer).code).toBe('BAD_REQUEST');
    }
    const xml = await sendJson(`${t.url}${DEVICE_ROUTES.authorize}`, {
      rawBody: '<a/>',
      headers: { 'content-type': 'application/xml' },
    });
    expect(xml.status).toBe(400);
    expect(errorOf(xml).code).toBe('BAD_REQUEST');
    const empty = await sendJson(`${t.url}${DEVICE_ROUTES.authorize}`, { method: 'POST' });
    expect(empty.status).toBe(400);
    expect(errorOf(empty).code).toBe('BAD_REQUEST');
  });

  it('refuses a registration not signed by the CSR’s key, or naming another serial', async () => {
    const other = t.device();
    const envelope = await other.registerEnvelope(token);
    const signedByStranger = signEnvelope(envelope.payload, generateKeyPair().privateKey, 'csr');
    const a = await other.send(DEVICE_ROUTES.register, signedByStranger);
    expect(a.status).toBe(401);
    expect(errorOf(a).code).toBe('SIGNATURE_MISMATCH');
    const b = await other.send(DEVICE_ROUTES.register, signEnvelope(envelope.payload, other.keys.privateKey, '1abc'));
    expect(b.status).toBe(401);
    expect(errorOf(b).code).toBe('SIGNATURE_MISMATCH');
    expect(await t.admin.listInstances(vaId)).toHaveLength(1);
  });

  it('refuses a malformed or hostile CSR in a registration with BAD_CSR, and registers nothing', async () => {
    const other = t.device();
    const der = Buffer.from((await createCsr(other.keys, 'CN=x')).replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const pem = (bytes: Buffer) =>
      `-----BEGIN CERTIFICATE REQUEST-----\n${bytes.toString('base64')}\n-----END CERTIFICATE REQUEST-----`;
    // ecdsa-with-SHA256 (1.2.840.10045.4.3.2) made ecdsa-with-SHA384: not the key's own algorithm.
    const sha256 = Buffer.from('06082a8648ce3d040302', 'hex');
    const at = der.indexOf(sha256);
    expect(at).toBeGreaterThan(0);
    const otherAlgorithm = Buffer.from(der);
    otherAlgorithm[at + sha256.length - 1] = 3;
    const trailing = Buffer.concat([der, Buffer.from([0])]);
    const garbage = '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----';
    for (const bad of [pem(otherAlgorithm), pem(trailing), garbage]) {
      const payload = { ...(await other.registerEnvelope(token)).payload, csr: bad };
      const answer = await other.send(DEVICE_ROUTES.register, signEnvelope(payload, other.keys.privateKey, 'csr'));
      expect(answer.status, bad).toBe(400);
      expect(errorOf(answer).code, bad).toBe('BAD_CSR');
    }
    expect(await t.admin.listInstances(vaId)).toHaveLength(1);
  });

  it('takes the envelope as the proof of possession in a registration; ID renewal checks the CSR’s self-signature', async () => {
    // A CSR whose self-signature is broken: its key still signs the registration's envelope,
    // over a payload that holds the CSR, which proves possession (ADR 0021).
    const brokenSignature = async (keys: SimDevice['keys']) => {
      const der = Buffer.from((await createCsr(keys, 'CN=x')).replace(/-----[^-]+-----|\s/g, ''), 'base64');
      der[der.length - 3]! ^= 1;
      return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----`;
    };
    const other = t.device();
    const payload = { ...(await other.registerEnvelope(token)).payload, csr: await brokenSignature(other.keys) };
    const registered = await other.send(DEVICE_ROUTES.register, signEnvelope(payload, other.keys.privateKey, 'csr'));
    expect(registered.status).toBe(200);
    expect(await t.admin.listInstances(vaId)).toHaveLength(2);

    // In ID renewal the envelope is signed with the current key: only the CSR proves the new one.
    const renewal = device.sign(device.identified('renew-id', { csr: await brokenSignature(generateKeyPair()) }));
    const refused = await device.send(DEVICE_ROUTES.renewId, renewal);
    expect(refused.status).toBe(400);
    expect(errorOf(refused)).toMatchObject({
      code: 'BAD_CSR',
      message: 'The certificate signing request is not valid: its signature does not verify.',
    });
    expect((await device.authorize([{ tag: TAG, count: 2 }])).status).toBe(200);
  });
});
