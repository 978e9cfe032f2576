import { DAY, HOUR, RUM_SAMPLE_INTERVAL_MS } from '@smartlic/protocol/core';
import { describe, expect, it } from 'vitest';
import { initialState } from '../state/agent-state.js';
import { buildStatus } from '../status/agent-status.js';
import { formatAll, formatStatus, formatSummary, formatUsage } from '../status/format-status.js';
import { applyAck, cutReport, declareUse, emptyPolicyState, policySchedule, samplesBetween } from './policy-state.js';
import { applyPolicy } from './policy-status.js';

const T0 = Date.UTC(2026, 0, 1, 9);
const TAG_A = 'regid.2026-01.com.example.A';
const TAG_B = 'regid.2026-01.com.example.B';
const udi = { pid: 'C9300-24UX', sn: 'FCW1' };
const trust = {
  instanceId: '3f2b8c9e-4d1a-4e6b-9c2d-1a2b3c4d5e6f',
  idCertificate: '-----BEGIN CERTIFICATE-----',
  idCertSerial: '1a2b',
  idCertExpiresAt: T0 + 360 * DAY,
  signingCertificate: '-----BEGIN CERTIFICATE-----',
  signingCertSerial: 'ff01',
  smartAccount: { id: 'sa', name: 'Example', domain: 'example.com' },
  virtualAccount: { id: 'va', name: 'Lab' },
  exportControlled: false,
  installedAt: T0,
  scope: 'local' as const,
};

describe('the policy state', () => {
  it('measures use per tag and cuts it into one report, keeping the open counts', () => {
    let s = { ...emptyPolicyState(), trust };
    s = declareUse(s, TAG_A, 3, T0);
    s = declareUse(s, TAG_A, 5, T0 + HOUR);
    s = declareUse(s, TAG_B, 1, T0 + HOUR);
    s = declareUse(s, TAG_B, 0, T0 + 2 * HOUR);
    const cut = cutReport(s, T0 + 3 * HOUR, { reportId: '0b6f3a3e-5c1d-4e2a-8f3b-9d8c7b6a5f4e', udi });
    expect(cut?.report.usage).toEqual([
      {
        tag: TAG_A,
        licenseClass: 'unenforced-perpetual',
        measurements: [
          { start: T0, end: T0 + HOUR, sampleIntervalMs: RUM_SAMPLE_INTERVAL_MS, samples: 5, count: 3 },
          { start: T0 + HOUR, end: T0 + 3 * HOUR, sampleIntervalMs: RUM_SAMPLE_INTERVAL_MS, samples: 9, count: 5 },
        ],
      },
      {
        tag: TAG_B,
        licenseClass: 'unenforced-perpetual',
        measurements: [
          { start: T0 + HOUR, end: T0 + 2 * HOUR, sampleIntervalMs: RUM_SAMPLE_INTERVAL_MS, samples: 5, count: 1 },
        ],
      },
    ]);
    expect(cut?.state.closed).toEqual({});
    expect(cut?.state.open[TAG_A]).toMatchObject({ count: 5, since: T0 + 3 * HOUR });
    // Nothing measured since: no report.
    expect(cutReport(cut!.state, T0 + 3 * HOUR, { reportId: 'x', udi })).toBeUndefined();
    expect(samplesBetween(T0, T0)).toBe(1);
  });

  it('derives the schedule from the policy: first report, then frequency and on change after an ACK', () => {
    let s = declareUse({ ...emptyPolicyState(), trust }, TAG_A, 1, T0);
    expect(policySchedule(s)).toEqual({
      pushIntervalDays: 0,
      nextAckDeadline: T0 + 365 * DAY,
      nextReportPush: undefined,
    });
    const custom = {
      ...s.policy,
      name: 'Custom Policy',
      custom: true,
      classes: {
        ...s.policy.classes,
        'unenforced-perpetual': { firstReportDays: 30, reportingFrequencyDays: 20, onChangeDays: 7 },
      },
    };
    s = applyAck(
      s,
      {
        type: 'ack',
        version: 1,
        ackId: 'a',
        instanceId: trust.instanceId,
        udi,
        reportIds: [],
        policy: custom,
        issuedAt: T0,
      },
      T0 + DAY,
    );
    expect(policySchedule(s)).toEqual({
      pushIntervalDays: 20,
      nextAckDeadline: T0 + 21 * DAY,
      nextReportPush: T0 + 20 * DAY,
    });
    s = declareUse(s, TAG_A, 2, T0 + 2 * DAY);
    expect(policySchedule(s).nextAckDeadline).toBe(T0 + 9 * DAY);
  });
});

describe('the status of a policy device', () => {
  const base = buildStatus(
    initialState({ pid: udi.pid, sn: udi.sn, softwareTag: 'regid.x', profile: 'catalyst' }, 'fp', T0),
    T0,
  );
  let s = declareUse({ ...emptyPolicyState(), trust }, TAG_A, 3, T0);
  s = declareUse(s, TAG_B, 2, T0);
  s = declareUse(s, TAG_B, 0, T0 + HOUR);
  const status = applyPolicy(base, s);

  it('lists licenses as IN USE or NOT IN USE', () => {
    expect(status.usage).toEqual([
      { tag: TAG_A, displayName: null, count: 3, status: 'IN USE' },
      { tag: TAG_B, displayName: null, count: 0, status: 'NOT IN USE' },
    ]);
    expect(status.identity.instanceId).toBe(trust.instanceId);
  });

  it('prints the SLUP blocks in status, summary, usage and all', () => {
    const text = formatStatus(status);
    expect(text.split('\n\n').map((b) => b.split('\n')[0])).toEqual([
      'Smart Licensing Using Policy:',
      'Account Information:',
      'Data Privacy:',
      'Transport:',
      'Policy:',
      'Usage Reporting:',
      'Trust Code Installed:',
    ]);
    expect(text).toContain('  Last ACK received: None');
    expect(text).toContain('  Reporting push interval: 0 (no reporting)');
    expect(text).toContain('    First report requirement (days): 365');
    expect(text).toContain('  Smart Account: Example');
    expect(formatSummary(status)).toContain(`${TAG_B}`);
    expect(formatSummary(status)).toContain('NOT IN USE');
    expect(formatUsage(status)).toContain('Status: IN USE');
    expect(formatAll(status)).toContain('Usage Reporting:');
  });
});
