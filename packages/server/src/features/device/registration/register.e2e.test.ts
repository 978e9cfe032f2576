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
    expect(errorOf(refused)).toMatchObject({ code: 'ALREADY_REGISTERED', message: alreadyRegistered('FCW2134L0RN') });
    expect(errorOf(refused).message).toMatch(/^Product Already Registered: /);
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

  it('moves a device to another VA of the same Smart Account with force, releasing its usage in the old one', async () => {
    const { accountId, vaId: labId } = await t.admin.setupVa('Alpha');
    const prodId = (await t.admin.createVa(accountId, 'Prod')).id;
    const d = t.device('PID', 'SN-MOVE');
    await d.register((await t.admin.createToken(labId)).token);
    await d.authorize([{ tag: TAG, count: 2 }]);
    const moved = t.device('PID', 'SN-MOVE');
    expect((await moved.register((await t.admin.createToken(prodId)).token, { force: true })).status).toBe(200);
    expect(await t.admin.listInstances(labId)).toEqual([]);
    expect(await t.admin.listLicenses(labId)).toEqual([]);
    expect((await t.admin.listInstances(prodId)).map((i) => i.id)).toEqual([moved.instanceId]);
  });
});

/** The one refusal text for a UDI that is already registered (PID `PID` unless given). */
function alreadyRegistered(sn: string, pid = 'C9300-24UX'): string {
  return (
    `Product Already Registered: PID:${pid} SN:${sn} is already registered. With force, only an instance of the ` +
    "token's own Smart Account can be replaced; one registered elsewhere must be removed there first."
  );
}

interface EventItem {
  type: string;
  actor: string;
  accountId: string | null;
  vaId: string | null;
  detail: Record<string, unknown>;
}

describeEachEngine('a UDI held by another Smart Account (force cannot take it over)', (engine) => {
  let t: TestServer;
  beforeEach(async () => {
    t = await startTestServer({ engine });
  });
  afterEach(async () => {
    await t.dispose();
  });

  async function events(vaId: string): Promise<EventItem[]> {
    return (await t.admin.ok<{ items: EventItem[] }>('GET', `/api/v1/virtual-accounts/${vaId}/events?limit=500`)).items;
  }

  it('refuses the takeover in the same words as any other, records it in both logs, and leaves the instance working', async () => {
    const victim = await t.admin.setupVa('Victim Corp');
    const attacker = await t.admin.setupVa('Attacker Ltd');
    await t.admin.addLicense(victim.vaId, { tag: TAG, count: 5 });
    const victimToken = await t.admin.createToken(victim.vaId);
    const attackerToken = await t.admin.createToken(attacker.vaId);
    const device = t.device('C9300-24UX', 'FCW-VICTIM');
    expect((await device.register(victimToken.token)).status).toBe(200);
    expect((await device.authorize([{ tag: TAG, count: 2 }])).status).toBe(200);

    const thief = t.device('C9300-24UX', 'FCW-VICTIM');
    const forced = await thief.register(attackerToken.token, { force: true, hostname: 'evil' });
    const unforced = await thief.register(attackerToken.token);
    const sameAccount = await t.device('C9300-24UX', 'FCW-VICTIM').register(victimToken.token);
    // One answer for all three: nothing tells the attacker where the UDI lives, or that force made a difference.
    for (const answer of [forced, unforced, sameAccount]) {
      expect(answer.status).toBe(409);
      const { requestId, ...rest } = errorOf(answer);
      expect(requestId).toEqual(expect.any(String));
      expect(rest).toEqual({ code: 'ALREADY_REGISTERED', message: alreadyRegistered('FCW-VICTIM') });
    }

    // Nothing changed: the victim's instance, its usage, and no token use counted for the attacker.
    expect((await t.admin.listInstances(victim.vaId)).map((i) => i.id)).toEqual([device.instanceId]);
    expect(await t.admin.listInstances(attacker.vaId)).toEqual([]);
    expect(await t.admin.listLicenses(victim.vaId)).toMatchObject([{ tag: TAG, inUse: 2 }]);
    expect((await t.admin.listTokens(attacker.vaId))[0]?.uses).toBe(0);

    // The victim's device goes on as before.
    expect((await device.authorize([{ tag: TAG, count: 3 }])).status).toBe(200);
    expect((await device.renewId()).status).toBe(200);
    expect(await t.admin.listLicenses(victim.vaId)).toMatchObject([{ tag: TAG, inUse: 3 }]);

    // The attacker's log: one refused forced registration, naming the UDI and the token.
    const refused = (await events(attacker.vaId)).filter((e) => e.type === 'registration.refused');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({
      actor: `token:${attackerToken.id}`,
      accountId: attacker.accountId,
      vaId: attacker.vaId,
      detail: { pid: 'C9300-24UX', sn: 'FCW-VICTIM', tokenId: attackerToken.id, hostname: 'evil', force: true },
    });
    expect(JSON.stringify(refused)).not.toContain(victim.accountId);
    expect(JSON.stringify(refused)).not.toContain(victim.vaId);
    expect(JSON.stringify(refused)).not.toContain(device.instanceId);

    // The victim's log: one refused attempt on its instance, without naming who made it.
    const attempts = (await events(victim.vaId)).filter((e) => e.type === 'instance.takeover-refused');
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({
      actor: 'system',
      accountId: victim.accountId,
      vaId: victim.vaId,
      detail: { instanceId: device.instanceId, pid: 'C9300-24UX', sn: 'FCW-VICTIM' },
    });
    expect(String(attempts[0]?.detail.message)).toMatch(
      /registration with force from another Smart Account was refused/,
    );
    for (const secret of [attacker.accountId, attacker.vaId, attackerToken.id, attackerToken.token, 'Attacker Ltd']) {
      expect(JSON.stringify(attempts)).not.toContain(secret);
    }
  });

  it('still lets the same Smart Account replace its own instance with force', async () => {
    const { vaId } = await t.admin.setupVa('Own');
    const token = await t.admin.createToken(vaId);
    const first = t.device('C9300-24UX', 'FCW-OWN');
    expect((await first.register(token.token)).status).toBe(200);
    const again = t.device('C9300-24UX', 'FCW-OWN');
    expect((await again.register(token.token, { force: true })).status).toBe(200);
    expect((await t.admin.listInstances(vaId)).map((i) => i.id)).toEqual([again.instanceId]);
    const types = (await events(vaId)).map((e) => e.type);
    expect(types).not.toContain('registration.refused');
    expect(types).not.toContain('instance.takeover-refused');
  });
});
