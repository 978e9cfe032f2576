import { DEVICE_ROUTES, type Envelope } from '@smartlic/protocol';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachEngine } from '../../test-support/postgres.js';
import { errorOf } from '../../test-support/sim-device.js';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';

const TAG = 'regid.2014-08.com.example.A';

describeEachEngine('renewal of the ID certificate and deregistration', (engine) => {
  let t: TestServer;
  let vaId: string;
  beforeEach(async () => {
    t = await startTestServer({ engine });
    ({ vaId } = await t.admin.setupVa());
    await t.admin.addLicense(vaId, { tag: TAG, count: 10 });
  });
  afterEach(async () => {
    await t.dispose();
  });

  it('deregistration releases the usage and removes the instance', async () => {
    const token = (await t.admin.createToken(vaId)).token;
    const keep = t.device();
    const leave = t.device();
    await keep.register(token);
    await leave.register(token);
    await keep.authorize([{ tag: TAG, count: 3 }]);
    await leave.authorize([{ tag: TAG, count: 4 }]);
    expect(await t.admin.listLicenses(vaId)).toMatchObject([{ inUse: 7, surplus: 3 }]);

    const answer = await leave.deregister();
    expect(answer.status).toBe(200);
    expect((answer.body as Envelope<{ type: string; instanceId: string }>).payload).toMatchObject({
      type: 'deregister-response',
      instanceId: leave.instanceId,
    });
    expect(await t.admin.listLicenses(vaId)).toMatchObject([{ inUse: 3, surplus: 7 }]);
    expect((await t.admin.listInstances(vaId)).map((i) => i.id)).toEqual([keep.instanceId]);

    const after = await leave.authorize([{ tag: TAG, count: 4 }]);
    expect(after.status).toBe(404);
    expect(errorOf(after).code).toBe('UNKNOWN_INSTANCE');
    // The UDI can register again without force.
    expect((await t.device(leave.udi.pid, leave.udi.sn).register(token)).status).toBe(200);
  });

  it('renew-id issues a new certificate for the same instance and refuses the old serial once the new one is used', async () => {
    const d = t.device();
    await d.register((await t.admin.createToken(vaId)).token);
    await d.authorize([{ tag: TAG, count: 2 }]);
    const oldSerial = d.idCertSerial!;
    const oldKeys = d.keys;
    const instanceId = d.instanceId;
    const staleEnvelope = d.authorizeEnvelope([{ tag: TAG, count: 9 }]);

    t.clock.advance(1000);
    const renewed = await d.renewId();
    expect(renewed.status).toBe(200);
    const payload = (renewed.body as Envelope<Record<string, unknown>>).payload;
    expect(payload).toMatchObject({ type: 'renew-id-response', instanceId, renewIntervalMs: 180 * 86_400_000 });
    expect(d.idCertSerial).not.toBe(oldSerial);
    expect(d.keys).not.toBe(oldKeys);

    const [instance] = await t.admin.listInstances(vaId);
    expect(instance).toMatchObject({ id: instanceId, idCertSerial: d.idCertSerial, usage: [{ tag: TAG, count: 2 }] });

    // The old key naming the new serial is refused.
    const oldKey = await d.send(
      DEVICE_ROUTES.authorize,
      d.sign(d.identified('authorize', { entitlements: [] }), oldKeys.privateKey),
    );
    expect(oldKey.status).toBe(401);
    expect(errorOf(oldKey).code).toBe('SIGNATURE_MISMATCH');

    expect((await d.authorize([{ tag: TAG, count: 5 }])).status).toBe(200);
    expect(await t.admin.listLicenses(vaId)).toMatchObject([{ inUse: 5 }]);
    // Once the new certificate was used, a message made with the old one (signed before the renewal) is refused.
    const stale = await d.send(DEVICE_ROUTES.authorize, staleEnvelope);
    expect(stale.status).toBe(401);
    expect(errorOf(stale).code).toBe('MISSING_SERIALS');
    expect(await t.admin.listLicenses(vaId)).toMatchObject([{ inUse: 5 }]);
  });

  it('renew-id may keep the same key', async () => {
    const d = t.device();
    await d.register((await t.admin.createToken(vaId)).token);
    const keys = d.keys;
    const oldSerial = d.idCertSerial;
    expect((await d.renewId({ sameKey: true })).status).toBe(200);
    expect(d.keys).toBe(keys);
    expect(d.idCertSerial).not.toBe(oldSerial);
    expect((await d.authorize([])).status).toBe(200);
  });
});
