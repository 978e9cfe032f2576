import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DAY, HOUR } from '@smartlic/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from './agent.js';
import { formatStatus } from './status/format-status.js';
import { FakeAuthority } from './testing/fake-authority.js';
import { type AgentHarness, createAgentHarness } from './testing/harness.js';

const TAG = 'regid.2014-08.com.example.NetworkAdvantage';
const SEND_FAILED = 'Fail to send out Call Home HTTP message.';
const keyOf = (h: AgentHarness): Promise<string> => readFile(join(h.dir, 'device-key.pem'), 'utf8');

describe('lifecycle', () => {
  let h: AgentHarness;
  beforeEach(async () => {
    h = await createAgentHarness();
    h.fake.setLicenses(TAG, 5);
  });
  afterEach(() => h.close());

  async function registered(): Promise<Agent> {
    const agent = await h.init();
    await agent.setDestination(h.fake.url);
    await agent.use(TAG, 1);
    expect((await agent.register(h.fake.createToken())).ok).toBe(true);
    return agent;
  }

  it('deregisters: the authority removes the instance, the device key is replaced', async () => {
    const agent = await registered();
    const key = await keyOf(h);
    const outcome = await agent.deregister();
    expect(outcome).toMatchObject({ action: 'deregister', ok: true });
    expect(h.fake.instances()).toEqual([]);
    expect(await keyOf(h)).not.toBe(key);
    const s = agent.status();
    expect(s.registration).toMatchObject({ status: 'UNREGISTERED', idCertSerial: null, smartAccount: null });
    expect(s.authorization.status).toBe('EVAL MODE');
    expect(h.eventNames()).toContain('%SMART_LIC-6-AGENT_DEREG_SUCCESS');
    expect(await agent.register(h.fake.createToken())).toMatchObject({ ok: true });
  });

  it('deregisters locally when the authority cannot be reached, and says so', async () => {
    const agent = await registered();
    const remaining = agent.status().evaluation.remainingMs;
    h.fake.reachable = false;
    h.clock.advance(DAY);
    const outcome = await agent.deregister();
    expect(outcome).toMatchObject({ action: 'deregister', ok: false, code: 'SEND_FAILED' });
    expect(outcome.message).toContain('The local registration was removed');
    expect(outcome.message).toContain(SEND_FAILED);
    const s = agent.status();
    expect(s.registration.status).toBe('UNREGISTERED');
    expect(s.evaluation.remainingMs).toBe(remaining);
    // Next: the 30-days-remaining expiry warning of the resumed evaluation period.
    expect(agent.nextWakeAt()).toBe(h.clock.now() + remaining - 30 * DAY);
    expect(h.eventNames()).toEqual(
      expect.arrayContaining(['%SMART_LIC-3-AGENT_DEREG_FAILED', '%SMART_LIC-3-COMM_FAILED']),
    );
    const reopened = await h.open();
    expect(reopened.status()).toEqual(s);
  });

  it('resumes identically after a restart', async () => {
    const agent = await registered();
    h.fake.reachable = false;
    h.clock.advance(30 * DAY);
    await agent.runDue();
    const before = agent.status();
    const reopened = await h.open();
    expect(reopened.status()).toEqual(before);
    expect(reopened.nextWakeAt()).toBe(agent.nextWakeAt());
    h.fake.reachable = true;
    h.clock.set(reopened.nextWakeAt()!);
    expect(await reopened.runDue()).toEqual([expect.objectContaining({ action: 'authorize', ok: true })]);
    expect(reopened.status().authorization.lastCommunicationAttempt?.result).toBe('SUCCEEDED');
  });

  it('lets one writer at a time change the state; a reader sees what it saved', async () => {
    const agent = await registered();
    await expect(Agent.open(h.options())).rejects.toMatchObject({ code: 'STATE_LOCKED' });
    const reader = await h.openReadOnly();
    await agent.use('regid.2014-08.com.example.Extra', 1);
    const seen = await reader.readStatus();
    expect(seen.usage.map((u) => u.tag)).toEqual([TAG, 'regid.2014-08.com.example.Extra']);
    await expect(reader.use(TAG, 2)).rejects.toThrow(/was opened read-only: it does not change the device state/);
  });

  it('renews its ID certificate with a new key after 180 days', async () => {
    const agent = await registered();
    const t0 = h.clock.now();
    const { idCertSerial } = agent.status().registration;
    const key = await keyOf(h);
    while (h.clock.now() < t0 + 180 * DAY) {
      h.clock.set(agent.nextWakeAt()!);
      for (const o of await agent.runDue()) expect(o.ok).toBe(true);
    }
    expect(h.fake.count('renew-id')).toBe(1);
    const s = agent.status();
    expect(s.registration).toMatchObject({
      status: 'REGISTERED',
      lastRenewalAttempt: { result: 'SUCCEEDED', at: new Date(t0 + 180 * DAY).toISOString() },
      nextRenewalAttempt: new Date(t0 + 360 * DAY).toISOString(),
    });
    expect(s.registration.idCertSerial).not.toBe(idCertSerial);
    expect(s.registration.idCertSerial).toBe(h.fake.instances()[0]?.idCertSerial);
    expect(await keyOf(h)).not.toBe(key);
    expect(await agent.renewAuthorization()).toMatchObject({ ok: true });
    expect((await h.open()).status()).toEqual(agent.status());
    expect(h.eventNames()).toContain('%SMART_LIC-6-ID_CERT_RENEW_SUCCESS');
  });

  it('retries a failed ID renewal hourly and keeps the old key', async () => {
    const agent = await registered();
    const key = await keyOf(h);
    h.fake.override('renew-id', { error: { status: 503, code: 'SERVER_BUSY' } });
    const outcome = await agent.renewId();
    expect(outcome).toMatchObject({ ok: false, message: 'Your request could not be processed now. Please try again' });
    const s = agent.status();
    expect(s.registration).toMatchObject({
      status: 'REGISTERED',
      lastRenewalAttempt: { result: 'FAILED' },
      nextRenewalAttempt: new Date(h.clock.now() + HOUR).toISOString(),
    });
    expect(formatStatus(s)).toContain('Last Renewal Attempt: FAILED on');
    expect(await keyOf(h)).toBe(key);
    expect(await agent.renewAuthorization()).toMatchObject({ ok: true });
  });

  it('becomes unidentified when the ID certificate expires and uses its remaining evaluation time', async () => {
    const agent = await h.init();
    await agent.setDestination(h.fake.url);
    await agent.use(TAG, 1);
    h.clock.advance(DAY);
    expect((await agent.register(h.fake.createToken())).ok).toBe(true);
    const expiresAt = h.fake.instances()[0]!.idCertExpiresAt;
    h.fake.reachable = false;
    h.clock.set(expiresAt + HOUR);
    const outcomes = await agent.runDue();
    expect(outcomes.filter((o) => o.action === 'expire')).toHaveLength(2);
    const s = agent.status();
    expect(s.registration).toMatchObject({
      status: 'REGISTRATION EXPIRED',
      statusText: 'UNREGISTERED - REGISTRATION EXPIRED',
    });
    expect(s.authorization.status).toBe('EVAL MODE');
    expect(s.evaluation.remainingMs).toBe(89 * DAY - HOUR);
    expect(agent.nextWakeAt()).toBe(h.clock.now() + 59 * DAY - HOUR);
    expect(h.eventNames()).toEqual(expect.arrayContaining(['%SMART_LIC-3-ID_CERT_EXPIRED', '%SMART_LIC-5-EVAL_START']));
  });

  it('shows PENDING and "Waiting for reply" while a request is unanswered, also after a crash', async () => {
    const agent = await registered();
    await agent.setDestination(h.fake.url);
    await h.closeAgents();
    const slow = await Agent.open(h.options({ requestTimeoutMs: 300 }));
    h.fake.override('authorize', { hang: true });
    const sent = h.fake.count('authorize');
    const pending = slow.renewAuthorization();
    while (h.fake.count('authorize') === sent) await new Promise((resolve) => setImmediate(resolve));
    const crashed = await h.openReadOnly();
    expect(crashed.status().authorization).toMatchObject({
      lastCommunicationAttempt: { result: 'PENDING' },
      failureReason: 'Waiting for reply',
    });
    expect(formatStatus(crashed.status())).toContain('Last Communication Attempt: PENDING on');
    expect(await pending).toMatchObject({ ok: false, message: SEND_FAILED });
    expect(slow.status().authorization.lastCommunicationAttempt?.result).toBe('FAILED');
    await slow.close();
  });

  it('answers NOT_REGISTERED for renewals of an unregistered device, and refuses a second registration without force', async () => {
    const agent = await h.init();
    expect(await agent.renewAuthorization()).toMatchObject({ ok: false, code: 'NOT_REGISTERED' });
    expect(await agent.renewId()).toMatchObject({ ok: false, code: 'NOT_REGISTERED' });
    await agent.setDestination(h.fake.url);
    await agent.register(h.fake.createToken());
    expect(await agent.register(h.fake.createToken())).toMatchObject({ ok: false, code: 'ALREADY_REGISTERED' });
    expect(h.fake.count('register')).toBe(1);
  });

  it('swallows exceptions thrown by the event handler', async () => {
    const agent = await Agent.init(
      { pid: 'C9300-24UX' },
      h.options({
        onEvent: () => {
          throw new Error('host bug');
        },
      }),
    );
    await agent.setDestination(h.fake.url);
    expect(await agent.register(h.fake.createToken())).toMatchObject({ ok: true });
  });

  it('refuses bad arguments from its host', async () => {
    const agent = await h.init();
    await expect(agent.setDestination('ftp://x')).rejects.toThrow('must be an http:// or https:// URL');
    await expect(agent.setDestination(h.fake.url, { trustPem: 'nothing' })).rejects.toThrow(
      'The trust PEM holds no certificate',
    );
    await expect(agent.setDestination(h.fake.url, { authorityRootPem: 'nothing' })).rejects.toThrow(
      'The authority root PEM holds no certificate',
    );
    expect(await agent.use('', 1)).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    expect(await agent.use(TAG, 1.5)).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    expect(await agent.register('')).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
  });
});

describe('HTTPS', () => {
  it('pins the root on first use, then verifies the TLS server with it', async () => {
    const h = await createAgentHarness({ fake: { https: true } });
    try {
      const agent = await h.init();
      expect(h.fake.url).toMatch(/^https:/);
      expect(await agent.setDestination(h.fake.url)).toEqual({ pinnedFingerprint: h.fake.rootFingerprint });
      expect(await agent.register(h.fake.createToken())).toMatchObject({ ok: true });
    } finally {
      await h.close();
    }
  });

  it('refuses a TLS server its trust anchors do not vouch for', async () => {
    const h = await createAgentHarness({ fake: { https: true } });
    const stranger = await FakeAuthority.start({ clock: h.clock });
    try {
      const agent = await h.init();
      await agent.setDestination(h.fake.url, { authorityRootPem: stranger.rootCaPem });
      const outcome = await agent.register(h.fake.createToken());
      expect(outcome.ok).toBe(false);
      expect(outcome.message).toMatch(/^SSL certificate problem: /);
    } finally {
      await stranger.close();
      await h.close();
    }
  });
});
