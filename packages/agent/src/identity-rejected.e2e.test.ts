import { DAY, errorMessage, HOUR, MINUTE } from '@smartlic/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Agent } from './agent.js';
import { formatAll } from './status/format-status.js';
import { type AgentHarness, createAgentHarness } from './testing/harness.js';

const TAG = 'regid.2014-08.com.example.NetworkAdvantage';
const MISSING_SERIALS = errorMessage('MISSING_SERIALS');
// Evaluation used before registering: 24 days, 5 hours, 17 minutes; 65 days, 18 hours, 43 minutes are left.
const USED = 24 * DAY + 5 * HOUR + 17 * MINUTE;
const LEFT = 90 * DAY - USED;

describe('an authority that no longer recognises the device’s certificates (seed 003 #6)', () => {
  let h: AgentHarness;
  let agent: Agent;
  let t0: number;

  beforeEach(async () => {
    h = await createAgentHarness();
    h.fake.setLicenses(TAG, 5, 'Network Advantage');
    agent = await h.init();
    await agent.setDestination(h.fake.url);
    t0 = h.clock.now();
    await agent.use(TAG, 2);
    h.clock.set(t0 + USED);
    expect((await agent.register(h.fake.createToken())).ok).toBe(true);
    expect(agent.status().authorization.status).toBe('AUTHORIZED');
  });
  afterEach(() => h.close());

  it('falls back to EVAL MODE with the evaluation time it had left, and registering again recovers', async () => {
    const registeredAt = t0 + USED;
    // The authority's signing certificate is replaced; the device still names the old one.
    await h.fake.replaceSigningCertificate();
    const renewalAt = registeredAt + 30 * DAY;
    h.clock.set(renewalAt);
    expect(await agent.runDue()).toEqual([
      expect.objectContaining({ action: 'authorize', ok: false, code: 'MISSING_SERIALS' }),
    ]);
    expect(h.events.filter((e) => e.at === renewalAt).map((e) => e.name)).toEqual([
      '%SMART_LIC-3-ID_CERT_REJECTED',
      '%SMART_LIC-5-EVAL_START',
    ]);

    const check = async (opened: Agent, at: number, left: number) => {
      h.clock.set(at);
      const s = opened.status();
      expect(s.registration).toMatchObject({
        status: 'UNREGISTERED',
        failureReason: MISSING_SERIALS,
        idCertSerial: null,
        smartAccount: null,
      });
      expect(s.identity.instanceId).toBeNull();
      expect(s.authorization).toMatchObject({ status: 'EVAL MODE', communicationDeadline: null });
      expect(s.evaluation).toMatchObject({ remainingMs: left, running: true });
      expect(s.usage).toEqual([expect.objectContaining({ tag: TAG, count: 2, status: 'EVAL MODE' })]);
      return s;
    };
    const text = formatAll(await check(agent, renewalAt, LEFT));
    expect(text).toContain('Registration:\n  Status: UNREGISTERED\n');
    expect(text).toContain(`  Failure reason: ${MISSING_SERIALS}\n`);
    expect(text).toContain(
      'License Authorization:\n  Status: EVAL MODE\n  Evaluation Period Remaining: 65 days, 18 hours, 43 minutes, 0 seconds',
    );
    // Persisted, and the evaluation clock runs again from where it stopped.
    await check(await h.openReadOnly(), renewalAt + DAY, LEFT - DAY);
    expect(agent.nextWakeAt()).toBe(renewalAt + LEFT - 30 * DAY);

    // The remedy: register again (the old product instance of this UDI is replaced).
    const before = h.fake.count('authorize');
    const outcome = await agent.register(h.fake.createToken());
    expect(outcome).toMatchObject({ action: 'register', ok: true });
    expect(h.fake.count('authorize')).toBe(before + 1);
    const s = agent.status();
    expect(s.registration).toMatchObject({ status: 'REGISTERED', failureReason: null });
    expect(s.authorization.status).toBe('AUTHORIZED');
    expect(s.usage).toEqual([expect.objectContaining({ tag: TAG, count: 2, status: 'AUTHORIZED' })]);
    expect(s.evaluation).toMatchObject({ remainingMs: LEFT - DAY, running: false });
    expect(h.fake.instances()).toHaveLength(1);
    expect(h.fake.instances()[0]?.usage).toEqual([expect.objectContaining({ tag: TAG, count: 2 })]);
  });

  it('also when renewing the ID certificate', async () => {
    await h.fake.replaceSigningCertificate();
    const outcome = await agent.renewId();
    expect(outcome).toMatchObject({ action: 'renew-id', ok: false, code: 'MISSING_SERIALS' });
    expect(outcome.message).toContain('65 days, 18 hours, 43 minutes, 0 seconds');
    const s = agent.status();
    expect(s.registration.status).toBe('UNREGISTERED');
    expect(s.authorization.status).toBe('EVAL MODE');
    expect(s.evaluation.remainingMs).toBe(LEFT);
    expect((await agent.register(h.fake.createToken())).ok).toBe(true);
    expect(agent.status().authorization.status).toBe('AUTHORIZED');
  });
});
