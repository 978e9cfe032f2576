import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DAY, MINUTE } from '@smartlic/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatStatus } from './status/format-status.js';
import { type AgentHarness, createAgentHarness } from './testing/harness.js';

const TAG = 'regid.2014-08.com.example.NetworkAdvantage';

describe('registration', () => {
  let h: AgentHarness;
  beforeEach(async () => {
    h = await createAgentHarness();
    h.fake.setLicenses(TAG, 10, 'Network Advantage');
  });
  afterEach(() => h.close());

  it('registers, authorizes the declared usage at once, and shows every status field', async () => {
    const agent = await h.init({ hostname: 'sw1' });
    const pinned = await agent.setDestination(h.fake.url);
    expect(pinned.pinnedFingerprint).toBe(h.fake.rootFingerprint);
    await agent.use(TAG, 2);
    const t0 = h.clock.now();
    const outcome = await agent.register(h.fake.createToken({ exportControlled: true }));
    expect(outcome).toMatchObject({ action: 'register', ok: true });
    expect(outcome.followUps?.[0]).toMatchObject({ action: 'authorize', ok: true });

    const s = agent.status();
    const cert = h.fake.instances()[0]!;
    expect(s.registration).toMatchObject({
      status: 'REGISTERED',
      smartAccount: 'Example Corp',
      virtualAccount: 'Default',
      exportControlled: 'Allowed',
      initialRegistration: { result: 'SUCCEEDED', at: new Date(t0).toISOString() },
      lastRenewalAttempt: null,
      nextRenewalAttempt: new Date(t0 + 180 * DAY).toISOString(),
      registrationExpires: new Date(cert.idCertExpiresAt).toISOString(),
      failureReason: null,
      idCertSerial: cert.idCertSerial,
    });
    expect(s.authorization).toMatchObject({
      status: 'AUTHORIZED',
      since: new Date(t0).toISOString(),
      lastCommunicationAttempt: { result: 'SUCCEEDED', at: new Date(t0).toISOString() },
      nextCommunicationAttempt: new Date(t0 + 30 * DAY).toISOString(),
      communicationDeadline: new Date(t0 + 90 * DAY).toISOString(),
      failureReason: null,
    });
    expect(s.usage).toEqual([{ tag: TAG, displayName: 'Network Advantage', count: 2, status: 'AUTHORIZED' }]);
    expect(s.identity).toMatchObject({
      udi: 'PID:C9300-24UX,SN:FCW2134L0RN',
      hostname: 'sw1',
      instanceId: cert.instanceId,
    });
    expect(s.transport).toMatchObject({ type: 'direct', url: h.fake.url, pinnedFingerprint: h.fake.rootFingerprint });
    expect(h.eventNames()).toEqual(
      expect.arrayContaining([
        '%SMART_LIC-6-EXPORT_CONTROLLED',
        '%SMART_LIC-6-AGENT_REG_SUCCESS',
        '%SMART_LIC-5-IN_COMPLIANCE',
        '%SMART_LIC-6-AUTH_RENEW_SUCCESS',
      ]),
    );
    expect(h.fake.instances()[0]?.usage).toEqual([{ tag: TAG, count: 2 }]);
    expect(formatStatus(s)).toContain('Status: REGISTERED');

    expect((await stat(h.dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(h.dir, 'device-key.pem'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(h.dir, 'state.json'))).mode & 0o777).toBe(0o600);
  });

  it('refuses a UDI that is already registered, and succeeds with force', async () => {
    const first = await h.init();
    await first.setDestination(h.fake.url);
    expect((await first.register(h.fake.createToken())).ok).toBe(true);

    const other = await createAgentHarness();
    try {
      const twin = await other.init();
      await twin.setDestination(h.fake.url, { authorityRootPem: h.fake.rootCaPem });
      const refused = await twin.register(h.fake.createToken());
      expect(refused).toMatchObject({ ok: false, code: 'ALREADY_REGISTERED', message: 'Product Already Registered' });
      const s = twin.status();
      expect(s.registration.status).toBe('REGISTRATION FAILED');
      expect(s.registration.nextRegistrationAttempt).toBeNull();
      const text = formatStatus(s);
      expect(text).toContain('Status: NOT REGISTERED - REGISTRATION FAILED');
      expect(text).toContain('Failure reason: Product Already Registered');
      expect(text).toContain('Initial Registration: FAILED on');
      expect(other.eventNames()).toContain('%SMART_LIC-3-AGENT_REG_FAILED');

      expect(await twin.register(h.fake.createToken(), { force: true })).toMatchObject({ ok: true });
      expect(twin.status().registration.status).toBe('REGISTERED');
    } finally {
      await other.close();
    }
  });

  it.each([
    ['an unknown token', 'no-such-token', 'The ID token is not valid: no such token exists.'],
    ['an expired token', 'expired', 'The ID token has expired.'],
    ['a used-up token', 'used-up', 'The ID token has reached its maximum number of uses.'],
  ])('fails for %s and forgets the token', async (_, kind, reason) => {
    const agent = await h.init();
    await agent.setDestination(h.fake.url);
    const token =
      kind === 'expired'
        ? h.fake.createToken({ expiresAt: h.clock.now() - 1 })
        : kind === 'used-up'
          ? h.fake.createToken({ maxUses: 0 })
          : kind;
    expect(await agent.register(token)).toMatchObject({ ok: false, message: reason });
    expect(agent.status().registration).toMatchObject({ status: 'REGISTRATION FAILED', failureReason: reason });
    expect(await readFile(join(h.dir, 'state.json'), 'utf8')).not.toContain(token);
  });

  it('keeps REGISTERING when the authority is busy and retries 15 minutes later', async () => {
    const agent = await h.init();
    await agent.setDestination(h.fake.url);
    h.fake.override('register', { error: { status: 503, code: 'SERVER_BUSY' } });
    const token = h.fake.createToken();
    const t0 = h.clock.now();
    const outcome = await agent.register(token);
    expect(outcome).toMatchObject({ ok: false, message: 'Your request could not be processed now. Please try again' });
    const s = agent.status();
    expect(s.registration).toMatchObject({
      status: 'REGISTERING',
      statusText: 'REGISTERING - REGISTRATION IN PROGRESS',
      nextRegistrationAttempt: new Date(t0 + 15 * MINUTE).toISOString(),
      failureReason: 'Your request could not be processed now. Please try again',
    });
    expect(agent.nextWakeAt()).toBe(t0 + 15 * MINUTE);
    expect(await readFile(join(h.dir, 'state.json'), 'utf8')).toContain(token);

    h.clock.advance(14 * MINUTE);
    expect(await agent.runDue()).toEqual([]);
    h.clock.advance(MINUTE);
    const done = await agent.runDue();
    expect(done).toEqual([expect.objectContaining({ action: 'register', ok: true })]);
    expect(agent.status().registration.status).toBe('REGISTERED');
    expect(await readFile(join(h.dir, 'state.json'), 'utf8')).not.toContain(token);
  });

  it('says "Fail to send out Call Home HTTP message." when the authority refuses connections', async () => {
    const agent = await h.init();
    const closed = await import('./testing/fake-authority.js').then((m) => m.FakeAuthority.start({ clock: h.clock }));
    const url = closed.url;
    await closed.close();
    await agent.setDestination(url, { authorityRootPem: h.fake.rootCaPem });
    const outcome = await agent.register(h.fake.createToken());
    expect(outcome).toMatchObject({
      ok: false,
      code: 'SEND_FAILED',
      message: 'Fail to send out Call Home HTTP message.',
    });
    expect(agent.status().registration).toMatchObject({
      status: 'REGISTERING',
      failureReason: 'Fail to send out Call Home HTTP message.',
    });
    expect(h.eventNames()).toEqual(
      expect.arrayContaining(['%SMART_LIC-3-AGENT_REG_FAILED', '%SMART_LIC-3-COMM_FAILED']),
    );
  });

  it('says "Communication transport not available." without a destination', async () => {
    const agent = await h.init();
    const outcome = await agent.register(h.fake.createToken());
    expect(outcome).toMatchObject({ ok: false, message: 'Communication transport not available.' });
    expect(agent.status().registration).toMatchObject({
      status: 'REGISTRATION FAILED',
      failureReason: 'Communication transport not available.',
    });
    expect(h.eventNames()).toEqual([
      '%SMART_LIC-6-AGENT_ENABLED',
      '%SMART_LIC-3-AGENT_REG_FAILED',
      '%SMART_LIC-3-COMM_FAILED',
    ]);
  });
});
