import { DAY, HOUR, MINUTE } from '@smartlic/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Agent } from './agent.js';
import { formatStatus } from './status/format-status.js';
import { type AgentHarness, createAgentHarness } from './testing/harness.js';

const TAG = 'regid.2014-08.com.example.NetworkAdvantage';
const SEND_FAILED = 'Fail to send out Call Home HTTP message.';

describe('authorization', () => {
  let h: AgentHarness;
  let agent: Agent;
  let t0: number;

  beforeEach(async () => {
    h = await createAgentHarness();
    h.fake.setLicenses(TAG, 5, 'Network Advantage');
    agent = await h.init();
    await agent.setDestination(h.fake.url);
    await agent.use(TAG, 1);
    t0 = h.clock.now();
    expect((await agent.register(h.fake.createToken())).ok).toBe(true);
  });
  afterEach(() => h.close());

  it('is OUT OF COMPLIANCE when the pool is short', async () => {
    const outcome = await agent.use(TAG, 6);
    expect(outcome).toMatchObject({ action: 'authorize', ok: true });
    const s = agent.status();
    expect(s.authorization.status).toBe('OUT OF COMPLIANCE');
    expect(s.usage).toEqual([expect.objectContaining({ tag: TAG, count: 6, status: 'OUT OF COMPLIANCE' })]);
    expect(h.events.at(-2)).toMatchObject({
      name: '%SMART_LIC-3-OUT_OF_COMPLIANCE',
      message: 'One or more entitlements are out of compliance',
    });
    expect(await agent.use(TAG, 5)).toMatchObject({ ok: true });
    expect(agent.status().authorization.status).toBe('AUTHORIZED');
    expect(h.eventNames()).toContain('%SMART_LIC-5-IN_COMPLIANCE');
  });

  it('renews after 30 days through runDue and not before', async () => {
    expect(agent.nextWakeAt()).toBe(t0 + 30 * DAY);
    h.clock.set(t0 + 30 * DAY - 1);
    expect(await agent.runDue()).toEqual([]);
    h.clock.set(t0 + 30 * DAY);
    const before = h.fake.count('authorize');
    expect(await agent.runDue()).toEqual([expect.objectContaining({ action: 'authorize', ok: true })]);
    expect(h.fake.count('authorize')).toBe(before + 1);
    expect(agent.status().authorization).toMatchObject({
      status: 'AUTHORIZED',
      nextCommunicationAttempt: new Date(t0 + 60 * DAY).toISOString(),
      communicationDeadline: new Date(t0 + 120 * DAY).toISOString(),
    });
  });

  it('records failures while the authority is gone, expires at the deadline, and recovers', async () => {
    h.fake.reachable = false;
    h.clock.set(t0 + 30 * DAY);
    expect(await agent.runDue()).toEqual([
      expect.objectContaining({ action: 'authorize', ok: false, message: SEND_FAILED }),
    ]);
    let s = agent.status();
    expect(s.authorization).toMatchObject({
      status: 'AUTHORIZED',
      lastCommunicationAttempt: { result: 'FAILED', at: new Date(t0 + 30 * DAY).toISOString() },
      failureReason: SEND_FAILED,
      nextCommunicationAttempt: new Date(t0 + 30 * DAY + 23 * HOUR).toISOString(),
      communicationDeadline: new Date(t0 + 90 * DAY).toISOString(),
    });
    const text = formatStatus(s);
    expect(text).toContain('Last Communication Attempt: FAILED on');
    expect(text).toContain(`Failure reason: ${SEND_FAILED}`);
    expect(h.eventNames()).toEqual(
      expect.arrayContaining(['%SMART_LIC-3-COMM_FAILED', '%SMART_LIC-3-AUTH_RENEW_FAILED']),
    );

    let expired: number | undefined;
    for (let i = 0; i < 200 && expired === undefined; i++) {
      h.clock.set(agent.nextWakeAt()!);
      const outcomes = await agent.runDue();
      if (outcomes.some((o) => o.action === 'expire')) expired = h.clock.now();
      expect(agent.status().authorization.status).toBe(expired ? 'AUTHORIZATION EXPIRED' : 'AUTHORIZED');
    }
    expect(expired).toBe(t0 + 90 * DAY);
    s = agent.status();
    expect(s.usage[0]?.status).toBe('AUTHORIZATION EXPIRED');
    expect(s.authorization.since).toBe(new Date(t0 + 90 * DAY).toISOString());
    expect(h.eventNames()).toContain('%SMART_LIC-3-AUTHORIZATION_EXPIRED');

    h.clock.set(agent.nextWakeAt()!);
    expect(h.clock.now()).toBeLessThanOrEqual(t0 + 90 * DAY + HOUR);
    await agent.runDue();
    expect(agent.nextWakeAt()).toBe(h.clock.now() + HOUR);

    h.fake.reachable = true;
    h.clock.set(agent.nextWakeAt()!);
    expect(await agent.runDue()).toEqual([expect.objectContaining({ action: 'authorize', ok: true })]);
    expect(agent.status().authorization).toMatchObject({ status: 'AUTHORIZED', failureReason: null });
    expect(h.eventNames()).toContain('%SMART_LIC-5-COMM_RESTORED');
  });

  it('retries OUT OF COMPLIANCE every 15 minutes for 2 hours, then every 4 hours', async () => {
    await agent.use(TAG, 9);
    h.fake.reachable = false;
    const start = h.clock.now();
    await agent.renewAuthorization();
    expect(agent.nextWakeAt()).toBe(start + 15 * MINUTE);
    for (let k = 1; k <= 8; k++) {
      h.clock.set(agent.nextWakeAt()!);
      await agent.runDue();
    }
    expect(h.clock.now()).toBe(start + 2 * HOUR);
    expect(agent.nextWakeAt()).toBe(start + 6 * HOUR);
    expect(agent.status().authorization.status).toBe('OUT OF COMPLIANCE');
  });

  describe('refuses responses that fail verification and keeps its state', () => {
    it.each([
      ['payload', 'the signature does not verify'],
      ['foreign-signer', 'signed by certificate'],
      ['nonce', 'the response does not echo the request nonce'],
    ] as const)('tampered: %s', async (tamper, detail) => {
      const before = agent.status();
      h.clock.advance(MINUTE);
      h.fake.override('authorize', { tamper });
      const outcome = await agent.renewAuthorization();
      expect(outcome).toMatchObject({
        ok: false,
        code: 'SIGNATURE_MISMATCH',
        message: 'Data and signature do not match',
      });
      const after = agent.status();
      expect(after.authorization).toMatchObject({
        status: 'AUTHORIZED',
        since: before.authorization.since,
        communicationDeadline: before.authorization.communicationDeadline,
        lastCommunicationAttempt: { result: 'FAILED', at: new Date(h.clock.now()).toISOString() },
        failureReason: 'Data and signature do not match',
      });
      expect(after.registration).toEqual(before.registration);
      expect(after.usage).toEqual(before.usage);
      expect(formatStatus(after)).toContain('Failure reason: Data and signature do not match');
      expect(h.events.at(-1)).toMatchObject({ name: '%SMART_LIC-3-AUTH_RENEW_FAILED' });
      expect(h.events.at(-1)?.message).toContain(detail);
    });

    it.each([
      ['payload', 'the signature does not verify'],
      ['foreign-signer', 'not issued by a trusted authority'],
      ['nonce', 'the response does not echo the request nonce'],
    ] as const)('registration tampered: %s', async (tamper, detail) => {
      const other = await createAgentHarness();
      try {
        const device = await other.init({ sn: `T${tamper.length}` });
        await device.setDestination(h.fake.url, { authorityRootPem: h.fake.rootCaPem });
        h.fake.override('register', { tamper });
        expect(await device.register(h.fake.createToken())).toMatchObject({
          ok: false,
          message: 'Data and signature do not match',
        });
        const s = device.status();
        expect(s.registration).toMatchObject({ status: 'REGISTRATION FAILED', idCertSerial: null, smartAccount: null });
        expect(s.identity.instanceId).toBeNull();
        expect(other.events.find((e) => e.type === 'AGENT_REG_FAILED')?.message).toContain(detail);
      } finally {
        await other.close();
      }
    });
  });

  it('refuses an over-large response without reading it all', async () => {
    h.fake.override('authorize', { raw: { status: 200, body: 'x'.repeat(1024 * 1024 + 10) } });
    expect(await agent.renewAuthorization()).toMatchObject({
      ok: false,
      code: 'BODY_TOO_LARGE',
    });
    expect(agent.status().authorization.status).toBe('AUTHORIZED');
  });

  it('releases the usage when the last tag is removed', async () => {
    expect(await agent.use(TAG, 0)).toMatchObject({ action: 'authorize', ok: true });
    const s = agent.status();
    expect(s.authorization).toMatchObject({ status: 'NO LICENSES IN USE', nextCommunicationAttempt: null });
    expect(s.usage).toEqual([]);
    expect(h.fake.instances()[0]?.usage).toEqual([]);
    expect(agent.nextWakeAt()).toBe(t0 + 180 * DAY);
  });
});

describe('device clock', () => {
  it('keeps REGISTERING with the authority’s tolerance message when the device clock is off', async () => {
    const h = await createAgentHarness();
    try {
      const skewed = { now: () => h.clock.now() - 2 * HOUR };
      const { Agent } = await import('./agent.js');
      const agent = await Agent.init({ pid: 'C9300-24UX' }, h.options({ clock: skewed }));
      await agent.setDestination(h.fake.url);
      const outcome = await agent.register(h.fake.createToken());
      const deviceTime = h.clock.now() - 2 * HOUR;
      const reason = `The device date '${deviceTime}' is offset beyond the allowed tolerance limit.`;
      expect(outcome).toMatchObject({ ok: false, code: 'CLOCK_OFFSET', message: reason });
      expect(agent.status().registration).toMatchObject({ status: 'REGISTERING', failureReason: reason });
    } finally {
      await h.close();
    }
  });
});
