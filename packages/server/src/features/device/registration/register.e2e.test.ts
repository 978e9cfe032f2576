import { DAY, type Envelope } from '@smartlic/protocol';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachEngine } from '../../../test-support/postgres.js';
import { errorOf } from '../../../test-support/sim-device.js';
import { startTestServer, type TestServer } from '../../../test-support/test-server.js';

const TAG = 'regid.2014-08.com.example.A';

describeEachEngine('registration tokens', (engine) => {
  let t: TestServer;
  let vaId: string;
  beforeEach(async () => {
    t = await startTestServer({ engine });
    ({ vaId } = await t.admin.setupVa());
  });
  afterEach(async () => {
    await t.dispose();
  });

  async function expectRefused(token: string, code: string, message: string): Promise<void> {
    const answer = await t.device().register(token);
    expect(answer.status).toBe(403);
    expect(errorOf(answer)).toMatchObject({ code, message });
    expect(errorOf(answer).requestId).toEqual(expect.any(String));
    expect(await t.admin.listInstances(vaId)).toEqual([]);
  }

  it('refuses an unknown token', async () => {
    await expectRefused('no-such-token', 'TOKEN_INVALID', 'The ID token is not valid: no such token exists.');
  });

  it('refuses a revoked token and leaves its uses unchanged', async () => {
    const token = await t.admin.createToken(vaId);
    const revoked = await t.admin.revokeToken(token.id);
    expect(revoked).toMatchObject({ status: 'REVOKED', revokedAt: new Date(t.clock.now()).toISOString() });
    await expectRefused(token.token, 'TOKEN_REVOKED', 'The ID token has been revoked.');
    expect((await t.admin.listTokens(vaId))[0]).toMatchObject({ uses: 0, status: 'REVOKED' });
  });

  it('refuses a used-up token', async () => {
    const token = await t.admin.createToken(vaId, { maxUses: 1 });
    expect((await t.device().register(token.token)).status).toBe(200);
    expect((await t.admin.listTokens(vaId))[0]).toMatchObject({ uses: 1, status: 'USED_UP' });
    const before = await t.admin.listInstances(vaId);
    const answer = await t.device().register(token.token);
    expect(answer.status).toBe(403);
    expect(errorOf(answer)).toMatchObject({
      code: 'TOKEN_USED_UP',
      message: 'The ID token has reached its maximum number of uses.',
    });
    expect(await t.admin.listInstances(vaId)).toEqual(before);
    expect((await t.admin.listTokens(vaId))[0]?.uses).toBe(1);
  });

  it('refuses an expired token once the clock passes its expiry', async () => {
    const token = await t.admin.createToken(vaId, { days: 2 });
    expect(token.expiresAt).toBe(new Date(t.clock.now() + 2 * DAY).toISOString());
    t.clock.advance(2 * DAY);
    await expectRefused(token.token, 'TOKEN_EXPIRED', 'The ID token has expired.');
    expect((await t.admin.listTokens(vaId))[0]).toMatchObject({ uses: 0, status: 'EXPIRED' });
  });

  it('counts uses and carries export control from the token', async () => {
    const token = await t.admin.createToken(vaId, { maxUses: 3 });
    const d = t.device();
    const answer = await d.register(token.token);
    expect((answer.body as Envelope<{ exportControlled: boolean }>).payload.exportControlled).toBe(false);
    expect((await t.admin.listTokens(vaId))[0]).toMatchObject({ uses: 1, maxUses: 3, status: 'ACTIVE' });
  });
});

describeEachEngine('a UDI registered twice', (engine) => {
  let t: TestServer;
  beforeEach(async () => {
    t = await startTestServer({ engine });
  });
  afterEach(async () => {
    await t.dispose();
  });

  it('is refused as "Product Already Registered" without force, and replaces the old instance with force', async () => {
    const { vaId } = await t.admin.setupVa();
    await t.admin.addLicense(vaId, { tag: TAG, count: 10 });
    const token = await t.admin.createToken(vaId);
    const first = t.device('C9300-24UX', 'FCW2134L0RN');
    await first.register(token.token);
    await first.authorize([{ tag: TAG, count: 4 }]);

    const again = t.device('C9300-24UX', 'FCW2134L0RN');
    const refused = await again.register(token.token);
    expect(refused.status).toBe(409);
    expect(errorOf(refused)).toMatchObject({ code: 'ALREADY_REGISTERED', message: 'Product Already Registered' });
    expect((await t.admin.listTokens(vaId))[0]?.uses).toBe(1);

    const forced = await again.register(token.token, { force: true });
    expect(forced.status).toBe(200);
    expect(again.instanceId).not.toBe(first.instanceId);
    const instances = await t.admin.listInstances(vaId);
    expect(instances.map((i) => i.id)).toEqual([again.instanceId]);
    expect(await t.admin.listLicenses(vaId)).toMatchObject([{ tag: TAG, inUse: 0, surplus: 10 }]);

    await again.authorize([{ tag: TAG, count: 4 }]);
    expect(await t.admin.listLicenses(vaId)).toMatchObject([{ tag: TAG, inUse: 4, surplus: 6 }]);

    // The replaced instance is gone: its messages are refused.
    const stale = await first.authorize([{ tag: TAG, count: 4 }]);
    expect(stale.status).toBe(404);
    expect(errorOf(stale).code).toBe('UNKNOWN_INSTANCE');
    expect(await t.admin.listLicenses(vaId)).toMatchObject([{ tag: TAG, inUse: 4 }]);
  });

  it('moves a device to another VA with force, releasing its usage in the old one', async () => {
    const a = await t.admin.setupVa('Alpha');
    const b = await t.admin.setupVa('Beta');
    const d = t.device('PID', 'SN-MOVE');
    await d.register((await t.admin.createToken(a.vaId)).token);
    await d.authorize([{ tag: TAG, count: 2 }]);
    const moved = t.device('PID', 'SN-MOVE');
    expect((await moved.register((await t.admin.createToken(b.vaId)).token, { force: true })).status).toBe(200);
    expect(await t.admin.listInstances(a.vaId)).toEqual([]);
    expect(await t.admin.listLicenses(a.vaId)).toEqual([]);
    expect((await t.admin.listInstances(b.vaId)).map((i) => i.id)).toEqual([moved.instanceId]);
  });
});
