import { DAY, SECOND } from '@smartlic/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AgentHarness, createAgentHarness } from '../testing/harness.js';
import { CLUSTER_CHANGES, EXPRESSWAY_RESOURCES } from './profiles.js';

const ROOM = 'regid.2016-07.com.cisco.EXP-RMS,1.0';
const CUSP = 'regid.2014-08.com.cisco.CUSP-5,1.0';

describe('enforcement on a live agent', () => {
  let h: AgentHarness;
  beforeEach(async () => {
    h = await createAgentHarness();
  });
  afterEach(() => h.close());

  it('expressway: room systems up to the declared count in evaluation, then the authorized count; an alarm in the event log', async () => {
    const agent = await h.init({ profile: 'expressway' });
    const enforcer = agent.createEnforcer({ resources: { [ROOM]: EXPRESSWAY_RESOURCES.roomSystem } });
    await agent.use(ROOM, 2);
    expect(enforcer.decision()).toMatchObject({ profile: 'expressway', status: 'EVAL MODE', decision: 'allow' });
    expect(enforcer.decision().evaluationRemainingMs).toBe(90 * DAY);
    expect([enforcer.acquire(ROOM).ok, enforcer.acquire(ROOM).ok]).toEqual([true, true]);
    expect(enforcer.acquire(ROOM)).toMatchObject({ ok: false, reason: 'License limit exceeded', licensed: 2 });
    const log = await agent.eventLog();
    expect(log.at(-1)).toMatchObject({
      name: '%SMART_LIC-4-LICENSE_LIMIT_REACHED',
      message: expect.stringContaining('You are licensed for 2 concurrent TelePresence room system registrations.'),
    });
    expect(h.eventNames()).toContain('%SMART_LIC-4-LICENSE_LIMIT_REACHED');

    h.fake.setLicenses(ROOM, 5);
    await agent.setDestination(h.fake.url);
    await agent.use(ROOM, 3);
    expect((await agent.register(h.fake.createToken())).followUps?.[0]?.ok).toBe(true);
    expect(enforcer.decision().status).toBe('AUTHORIZED');
    expect(enforcer.licensedCount(ROOM)).toBe(3);
    expect(enforcer.acquire(ROOM)).toMatchObject({ ok: true, inUse: 3, licensed: 3 });
    expect(enforcer.isAllowed(CLUSTER_CHANGES)).toBe(true);
  });

  it('expressway: restricted once the evaluation expired — cluster changes refused', async () => {
    const agent = await h.init({ profile: 'expressway' });
    const enforcer = agent.createEnforcer();
    await agent.use(ROOM, 1);
    h.clock.advance(90 * DAY + SECOND);
    expect(enforcer.decision()).toMatchObject({ status: 'EVAL EXPIRED', decision: 'restricted' });
    expect(enforcer.isAllowed(CLUSTER_CHANGES)).toBe(false);
    expect(enforcer.isAllowed()).toBe(true);
  });

  it('cusp: calls allowed in evaluation, blocked once it expired; the limiter follows the licensed count', async () => {
    const agent = await h.init({ profile: 'cusp' });
    const enforcer = agent.createEnforcer();
    await agent.use(CUSP, 2);
    expect(enforcer.isAllowed()).toBe(true);
    const limiter = enforcer.createCpsLimiter({ licensedCps: () => enforcer.licensedCount(CUSP) * 5, timer: false });
    expect(limiter.licensedCps).toBe(10);
    h.clock.advance(90 * DAY + SECOND);
    expect(enforcer.isAllowed()).toBe(false);
    limiter.update();
    expect(limiter.licensedCps).toBe(0);
  });

  it('catalyst allows everything; export-controlled functionality follows the token', async () => {
    h.fake.setLicenses(ROOM, 1);
    const agent = await h.init();
    const enforcer = agent.createEnforcer();
    expect(enforcer.profile.name).toBe('catalyst');
    expect(agent.exportControlledAllowed()).toBe(false);
    await agent.setDestination(h.fake.url);
    await agent.use(ROOM, 4);
    await agent.register(h.fake.createToken({ exportControlled: true }));
    expect(agent.status().authorization.status).toBe('OUT OF COMPLIANCE');
    expect(agent.exportControlledAllowed()).toBe(true);
    expect(enforcer.isAllowed()).toBe(true);
    expect(enforcer.licensedCount(ROOM)).toBe(4);
    await agent.deregister();
    expect(agent.exportControlledAllowed()).toBe(false);
  });

  it('refuses a profile it does not know unless the host passes its table', async () => {
    const agent = await h.init({ profile: 'acme' });
    expect(() => agent.createEnforcer()).toThrow(/"acme" is not built in/);
    const acme = { name: 'acme', decisions: { 'EVAL MODE': 'block' as const } };
    expect(agent.createEnforcer({ profiles: { acme } }).isAllowed()).toBe(true);
    await agent.use(ROOM, 1);
    expect(agent.createEnforcer({ profiles: { acme } }).isAllowed()).toBe(false);
  });
});
