import { DAY, HOUR, MINUTE, SECOND } from '@smartlic/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatStatus } from './status/format-status.js';
import { type AgentHarness, createAgentHarness } from './testing/harness.js';

const TAG = 'regid.2014-08.com.example.NetworkAdvantage';

describe('evaluation period', () => {
  let h: AgentHarness;
  beforeEach(async () => {
    h = await createAgentHarness();
    h.fake.setLicenses(TAG, 5);
  });
  afterEach(() => h.close());

  it('counts only while the device is unidentified and uses licenses, survives restarts, never resets', async () => {
    const agent = await h.init();
    expect(agent.status().authorization.status).toBe('NO LICENSES IN USE');
    h.clock.advance(10 * DAY);
    expect(agent.status().evaluation).toMatchObject({ remainingMs: 90 * DAY, running: false, startedAt: null });

    await agent.use(TAG, 1);
    expect(h.eventNames()).toContain('%SMART_LIC-5-EVAL_START');
    h.clock.advance(23 * HOUR + 55 * MINUTE + 26 * SECOND);
    let s = agent.status();
    expect(s.authorization.status).toBe('EVAL MODE');
    expect(s.usage[0]?.status).toBe('EVAL MODE');
    expect(formatStatus(s)).toContain('Evaluation Period Remaining: 89 days, 0 hours, 4 minutes, 34 seconds');
    expect((await h.openReadOnly()).status()).toEqual(s);

    await agent.setDestination(h.fake.url);
    expect((await agent.register(h.fake.createToken())).ok).toBe(true);
    const frozen = agent.status().evaluation.remainingMs;
    h.clock.advance(20 * DAY);
    expect(agent.status().evaluation).toMatchObject({ remainingMs: frozen, running: false });

    await agent.deregister();
    expect(agent.status().evaluation.remainingMs).toBe(frozen);
    h.clock.advance(DAY);
    expect(agent.status().evaluation.remainingMs).toBe(frozen - DAY);

    h.clock.advance(-5 * DAY);
    expect(agent.status().evaluation.remainingMs).toBe(frozen - DAY);
    await agent.runDue();
    h.clock.advance(5 * DAY);
    expect(agent.status().evaluation.remainingMs).toBeLessThanOrEqual(frozen - DAY);

    const warnings: number[] = [];
    let outcomes = await agent.runDue();
    while (outcomes.length === 0) {
      h.clock.set(agent.nextWakeAt()!);
      outcomes = await agent.runDue();
      if (outcomes.length === 0) warnings.push(agent.status().evaluation.remainingMs);
    }
    expect(warnings).toEqual([30 * DAY, 15 * DAY, 7 * DAY, DAY]);
    expect(h.events.filter((e) => e.type === 'EVAL_WILL_EXPIRE_WARNING').map((e) => e.message)).toEqual([
      expect.stringMatching(/^Evaluation period will expire in 30 days, 0 hours, 0 minutes, 0 seconds \(on /),
      expect.stringMatching(/^Evaluation period will expire in 15 days, 0 hours/),
      expect.stringMatching(/^Evaluation period will expire in 7 days, 0 hours/),
      expect.stringMatching(/^Evaluation period will expire in 1 days, 0 hours/),
    ]);
    expect(outcomes).toEqual([expect.objectContaining({ action: 'expire' })]);
    s = agent.status();
    expect(s.authorization.status).toBe('EVAL EXPIRED');
    expect(s.usage[0]?.status).toBe('EVAL EXPIRED');
    // The clock was set back 5 days above: agent time carries on, 5 days ahead of the wall clock.
    expect(s.clock.aheadOfWallClockMs).toBe(5 * DAY);
    expect(h.eventNames()).toContain('%SMART_LIC-4-CLOCK_BACKWARDS');
    expect(s.evaluation).toMatchObject({
      remainingMs: 0,
      running: false,
      expiredAt: new Date(h.clock.now() + 5 * DAY).toISOString(),
    });
    expect(h.eventNames()).toContain('%SMART_LIC-2-EVAL_EXPIRED');
    expect(agent.nextWakeAt()).toBeUndefined();

    expect((await agent.register(h.fake.createToken())).ok).toBe(true);
    expect(agent.status().authorization.status).toBe('AUTHORIZED');
    await agent.deregister();
    expect(agent.status().authorization.status).toBe('EVAL EXPIRED');
    expect((await h.open()).status().authorization.status).toBe('EVAL EXPIRED');
  });

  it('counts the time before a clock was set backwards once, however often it acts afterwards', async () => {
    const agent = await h.init();
    await agent.use(TAG, 1);
    h.clock.advance(2 * DAY);
    expect(agent.status().evaluation.remainingMs).toBe(88 * DAY);
    h.clock.advance(-5 * DAY);
    for (let i = 0; i < 3; i++) {
      await agent.use(TAG, 1 + i);
      h.clock.advance(HOUR);
    }
    expect(agent.status().evaluation.remainingMs).toBe(88 * DAY - 3 * HOUR);
    expect((await h.open()).status().evaluation.remainingMs).toBe(88 * DAY - 3 * HOUR);
  });

  it('pauses when the product stops using licenses', async () => {
    const agent = await h.init();
    await agent.use(TAG, 1);
    h.clock.advance(DAY);
    await agent.use(TAG, 0);
    h.clock.advance(DAY);
    expect(agent.status().evaluation.remainingMs).toBe(89 * DAY);
    await agent.use(TAG, 2);
    h.clock.advance(DAY);
    expect(agent.status().evaluation.remainingMs).toBe(88 * DAY);
  });
});
