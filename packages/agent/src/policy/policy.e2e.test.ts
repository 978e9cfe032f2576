import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DAY, HOUR, ManualClock, MINUTE, type RumReport } from '@smartlic/protocol/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent, type AgentOptions } from '../agent.js';
import type { AgentEvent } from '../events.js';
import { AgentRuntime } from '../runtime.js';
import { StateStore } from '../state/state-store.js';
import { formatStatus } from '../status/format-status.js';
import { FakePolicyAuthority } from '../testing/fake-policy-authority.js';
import { PolicyRuntime, type PolicyStep } from './policy-runtime.js';

const TAG_A = 'regid.2026-01.com.example.dna-advantage';
const TAG_B = 'regid.2026-01.com.example.network-essentials';

describe('a policy-model device', () => {
  let clock: ManualClock;
  let fake: FakePolicyAuthority;
  let base: string;
  let events: AgentEvent[];
  const options = (dir: string): AgentOptions => ({
    stateDir: dir,
    clock,
    random: () => 0,
    requestTimeoutMs: 5000,
    onEvent: (e) => events.push(e),
  });
  const device = async (sn = 'FCW1', dir = join(base, sn)) => {
    const agent = await Agent.init({ pid: 'C9300-24UX', sn, model: 'policy' }, options(dir));
    await agent.setDestination(fake.url, { authorityRootPem: fake.root.pem });
    return agent;
  };

  beforeEach(async () => {
    clock = new ManualClock(Date.UTC(2026, 0, 1, 9));
    fake = await FakePolicyAuthority.start(clock);
    base = await mkdtemp(join(tmpdir(), 'smartlic-policy-'));
    events = [];
  });
  afterEach(async () => {
    await fake.close();
    await rm(base, { recursive: true, force: true });
  });

  it('installs a trust code once (force to replace), reports its usage and shows the ACK', async () => {
    const agent = await device();
    expect(agent.model).toBe('policy');
    expect((await agent.trust('tok')).ok).toBe(true);
    const again = await agent.trust('tok');
    expect(again).toMatchObject({ ok: false, code: 'ALREADY_REGISTERED' });
    expect((await agent.trust('tok', { force: true })).ok).toBe(true);
    await agent.use(TAG_A, 3);
    clock.advance(HOUR);
    const synced = await agent.syncUsage();
    expect(synced.ok, synced.message).toBe(true);
    const reports = [...fake.recorded.values()];
    expect(reports).toHaveLength(1);
    expect(reports[0]?.usage[0]).toMatchObject({ tag: TAG_A, licenseClass: 'unenforced-perpetual' });
    expect(reports[0]?.usage[0]?.measurements).toEqual([
      {
        start: Date.UTC(2026, 0, 1, 9),
        end: Date.UTC(2026, 0, 1, 10),
        sampleIntervalMs: 15 * MINUTE,
        samples: 5,
        count: 3,
      },
    ]);
    const status = agent.status();
    expect(status.usage).toEqual([{ tag: TAG_A, displayName: null, count: 3, status: 'IN USE' }]);
    expect(status.policy?.usageReporting.lastAckReceived).toBe(new Date(Date.UTC(2026, 0, 1, 10)).toISOString());
    expect(status.policy?.usageReporting.reportingPushIntervalDays).toBe(0);
    const text = formatStatus(status);
    for (const block of [
      'Smart Licensing Using Policy:',
      'Account Information:',
      'Data Privacy:',
      'Transport:',
      'Policy:',
      'Usage Reporting:',
      'Trust Code Installed:',
    ]) {
      expect(text).toContain(block);
    }
    expect(text).toContain('Reporting push interval: 0 (no reporting)');
    expect(text).toContain('Last ACK received: ');
    expect(events.map((e) => e.name)).toContain('%SMART_LIC-6-TRUST_INSTALL_SUCCESS');
    await agent.close();
  });

  it('logs REPORTING_REQUIRED once when the ACK deadline passes, and keeps working', async () => {
    const agent = await device();
    await agent.trust('tok');
    await agent.use(TAG_A, 2);
    const deadline = Date.parse(agent.status().policy?.usageReporting.nextAckDeadline ?? '');
    expect(deadline).toBe(Date.UTC(2026, 0, 1, 9) + 365 * DAY);
    clock.set(deadline + MINUTE);
    await agent.runDue();
    await agent.runDue();
    expect(events.filter((e) => e.name === '%SMART_LIC-3-REPORTING_REQUIRED')).toHaveLength(1);
    expect((await agent.use(TAG_A, 4)).ok).toBe(true);
    expect(agent.status().usage[0]).toMatchObject({ count: 4, status: 'IN USE' });
    await agent.close();
  });

  it('takes a custom policy from the next ACK and reports on its schedule', async () => {
    const agent = await device();
    await agent.trust('tok');
    await agent.use(TAG_A, 1);
    expect(agent.nextWakeAt()).toBe(Date.UTC(2026, 0, 1, 9) + 365 * DAY);
    fake.policy = {
      name: 'Custom Policy',
      custom: true,
      classes: {
        ...fake.policy.classes,
        'unenforced-perpetual': { firstReportDays: 30, reportingFrequencyDays: 30, onChangeDays: 7 },
      },
    };
    await agent.syncUsage();
    const status = agent.status().policy;
    expect(status?.policy.name).toBe('Custom Policy');
    expect(status?.usageReporting.reportingPushIntervalDays).toBe(30);
    expect(formatStatus(agent.status())).toContain('Reporting push interval: 30 days');
    expect(events.map((e) => e.name)).toContain('%SMART_LIC-6-POLICY_INSTALL_SUCCESS');
    // The push is due 30 days on: runDue reports by itself.
    clock.advance(30 * DAY);
    const before = fake.recorded.size;
    const outcomes = await agent.runDue();
    expect(outcomes.map((o) => o.action)).toEqual(['sync']);
    expect(fake.recorded.size).toBe(before + 1);
    await agent.close();
  });

  it('saves usage to a file, imports its ACK, and refuses another device’s ACK', async () => {
    const agent = await device('FCW1');
    const other = await device('FCW2');
    await agent.trust('tok');
    await other.trust('tok');
    await agent.use(TAG_A, 5);
    clock.advance(HOUR);
    const file = await agent.saveUsage('all');
    expect(file.reports).toHaveLength(1);
    expect(agent.status().policy?.usageReporting.lastReportFileWrite).not.toBeNull();
    expect((await agent.saveUsage('unreported')).reports).toHaveLength(0);
    // The operator's hop: the fake answers the file's reports as the authority's import would.
    fake.dropAnswers = 0;
    await other.use(TAG_B, 1);
    await other.syncUsage();
    // The device's own ACK file imports; an older one afterwards does not (it would bring back an older policy).
    const own = await ackFileFor(fake, agent, Date.UTC(2026, 0, 1, 11));
    expect((await agent.importAck(JSON.stringify(own))).ok).toBe(true);
    const older = await ackFileFor(fake, agent, Date.UTC(2026, 0, 1, 10), '7b2e3f4d-5c6b-4a79-8877-665544332211');
    expect((await agent.importAck(JSON.stringify(older))).message).toContain('older than the last one');
    const edited = structuredClone(own);
    edited.ack.payload.policy.name = 'Edited';
    expect((await agent.importAck(JSON.stringify(edited))).code).toBe('SIGNATURE_MISMATCH');
    const otherAck = JSON.stringify(await ackFileFor(fake, other));
    expect(await agent.importAck(otherAck)).toMatchObject({ ok: false });
    expect((await agent.importAck(otherAck)).message).toContain('another product');
    await agent.close();
    await other.close();
  });

  it('refuses an edited policy.json', async () => {
    const dir = join(base, 'edited');
    const agent = await device('FCW3', dir);
    await agent.trust('tok');
    await agent.use(TAG_A, 2);
    await agent.close();
    const path = join(dir, 'policy.json');
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.replace('"count":2', '"count":1'));
    await expect(Agent.open(options(dir))).rejects.toThrow(/policy\.json is damaged or was edited \(MAC mismatch\)/);
  });

  it('loses no report and counts none twice when killed at 50 points while sampling and reporting', async () => {
    const dir = join(base, 'crash');
    const agent = await device('FCW9', dir);
    await agent.trust('tok');
    await agent.close();
    const start = clock.now();
    const changes: Array<{ at: number; tag: string; count: number }> = [];
    let calls = 0;
    let crashes = 0;
    const crashAt = (_step: PolicyStep) => {
      calls++;
      if (crashes < 50 && calls % 3 === 0) {
        crashes++;
        throw new Error('killed');
      }
    };
    const open = async () => {
      const store = new StateStore(dir);
      const { state, key } = await store.load();
      const rt = new AgentRuntime({ store, clock, random: () => 0, requestTimeoutMs: 5000 }, state, key);
      return (await PolicyRuntime.load(rt, crashAt)) as PolicyRuntime;
    };
    let policy = await open();
    /** Runs `op` until it gets through, reopening the state after each kill (as a restarted process). */
    const survive = async (op: (p: PolicyRuntime) => Promise<unknown>) => {
      for (;;) {
        try {
          return await op(policy);
        } catch (error) {
          if ((error as Error).message !== 'killed') throw error;
          policy = await open();
        }
      }
    };
    for (let i = 0; i < 40; i++) {
      const tag = i % 3 === 0 ? TAG_B : TAG_A;
      const count = (i * 7) % 5;
      await survive(async (p) => {
        await p.use(tag, count);
      });
      const last = changes.filter((c) => c.tag === tag).at(-1);
      if ((last?.count ?? 0) !== count) changes.push({ at: clock.now(), tag, count });
      clock.advance(17 * MINUTE);
      if (i % 4 === 3) {
        if (i % 8 === 7) fake.dropAnswers = 1;
        await survive((p) => p.sync());
      }
    }
    expect(crashes).toBe(50);
    const end = clock.now();
    await survive(async (p) => {
      const outcome = await p.sync();
      if (!outcome.ok) throw new Error(outcome.message);
    });
    expect(policy.state.unacked).toEqual([]);

    // Every moment of use is in exactly one recorded report: the integral of count over time per tag matches.
    const reports = [...fake.recorded.values()];
    expect(fake.delivered).toBeGreaterThan(reports.length);
    for (const tag of [TAG_A, TAG_B]) {
      const measured = measurementsOf(reports, tag).sort((a, b) => a.start - b.start);
      for (let i = 1; i < measured.length; i++) expect(measured[i]!.start).toBeGreaterThanOrEqual(measured[i - 1]!.end);
      const integral = measured.reduce((sum, m) => sum + m.count * (m.end - m.start), 0);
      expect(integral).toBe(expectedIntegral(changes, tag, start, end));
    }
  });
});

function measurementsOf(reports: RumReport[], tag: string) {
  return reports.flatMap((r) => r.usage.filter((u) => u.tag === tag).flatMap((u) => u.measurements));
}

function expectedIntegral(
  changes: Array<{ at: number; tag: string; count: number }>,
  tag: string,
  start: number,
  end: number,
): number {
  const own = changes.filter((c) => c.tag === tag);
  let sum = 0;
  for (const [i, c] of own.entries()) {
    const until = own[i + 1]?.at ?? end;
    sum += c.count * (Math.min(until, end) - Math.max(c.at, start));
  }
  return sum;
}

/** An ACK file for `agent` as the authority's import answers it, from the fake's last ACK of it. */
async function ackFileFor(
  fake: FakePolicyAuthority,
  agent: Agent,
  issuedAt = Date.UTC(2026, 0, 1, 10),
  ackId = '6a1e2f3d-4c5b-4a69-8877-665544332211',
) {
  const status = agent.status();
  const { signEnvelope } = await import('@smartlic/protocol/core');
  const ack = signEnvelope(
    {
      type: 'ack',
      version: 1,
      ackId,
      instanceId: status.identity.instanceId as string,
      udi: { pid: status.identity.pid, sn: status.identity.sn },
      reportIds: [],
      policy: fake.policy,
      issuedAt,
    },
    fake.signing.pair.privateKey,
    fake.signing.serial,
  );
  return {
    format: 'smartlic-ack',
    version: 1,
    udi: { pid: status.identity.pid, sn: status.identity.sn },
    ack,
    signingCertificate: fake.signing.pem,
  };
}
