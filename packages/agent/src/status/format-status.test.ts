import { describe, expect, it } from 'vitest';
import { formatDate, formatDuration } from '../time-format.js';
import type { AgentStatus } from './agent-status.js';
import { formatAll, formatStatus, formatSummary, formatUsage } from './format-status.js';

const registered: AgentStatus = {
  smartLicensing: 'ENABLED',
  generatedAt: '2022-06-22T16:20:00.000Z',
  identity: {
    pid: 'C9300-24UX',
    sn: 'FCW2134L0RN',
    udi: 'PID:C9300-24UX,SN:FCW2134L0RN',
    hostname: 'sw1',
    softwareTag: 'regid.2026-01.org.smartlic.C9300-24UX',
    profile: 'catalyst',
    instanceId: '6f1c2f4e-8d0a-4d8e-9a55-2b1c3d4e5f60',
  },
  transport: {
    type: 'direct',
    url: 'https://licensing.example.com',
    proxy: null,
    pinnedFingerprint: null,
    trustAnchors: 1,
    tlsTrustPoints: 0,
  },
  registration: {
    status: 'REGISTERED',
    statusText: 'REGISTERED',
    smartAccount: 'ldap_user_test',
    smartAccountDomain: 'example.com',
    virtualAccount: 'Default',
    exportControlled: 'Allowed',
    initialRegistration: { result: 'SUCCEEDED', at: '2022-06-22T16:15:41.000Z' },
    lastRenewalAttempt: null,
    nextRenewalAttempt: '2022-12-19T16:15:41.000Z',
    registrationExpires: '2023-06-22T16:13:53.000Z',
    nextRegistrationAttempt: null,
    failureReason: null,
    idCertSerial: 'ab12',
  },
  authorization: {
    status: 'AUTHORIZED',
    since: '2022-06-22T16:15:44.000Z',
    lastCommunicationAttempt: { result: 'SUCCEEDED', at: '2022-06-22T16:15:44.000Z' },
    nextCommunicationAttempt: '2022-07-22T16:15:43.000Z',
    communicationDeadline: '2022-09-20T16:12:55.000Z',
    failureReason: null,
  },
  clock: { wallTime: '2022-06-22T16:20:00.000Z', aheadOfWallClockMs: 0 },
  evaluation: { remainingMs: 90 * 86_400_000, running: false, startedAt: null, expiredAt: null },
  usage: [
    {
      tag: 'regid.2017-03.com.cisco.advantagek9',
      displayName: 'C9500 Network Advantage',
      count: 1,
      status: 'AUTHORIZED',
    },
    { tag: 'regid.2017-07.com.cisco.dna-advantage', displayName: null, count: 12, status: 'AUTHORIZED' },
  ],
};

describe('status text', () => {
  it('formats dates and durations like the vendor', () => {
    expect(formatDate('2022-06-22T16:15:41.000Z')).toBe('Jun 22 16:15:41 2022 UTC');
    expect(formatDuration(89 * 86_400_000 + 4 * 60_000 + 34_000 + 999)).toBe('89 days, 0 hours, 4 minutes, 34 seconds');
    expect(formatDuration(-5)).toBe('0 days, 0 hours, 0 minutes, 0 seconds');
  });

  it('prints the seed-004 block of a registered, authorized device field for field', () => {
    const text = formatStatus(registered);
    expect(text).toContain(
      [
        'Registration:',
        '  Status: REGISTERED',
        '  Smart Account: ldap_user_test',
        '  Virtual Account: Default',
        '  Export-Controlled Functionality: Allowed',
        '  Initial Registration: SUCCEEDED on Jun 22 16:15:41 2022 UTC',
        '  Last Renewal Attempt: None',
        '  Next Renewal Attempt: Dec 19 16:15:41 2022 UTC',
        '  Registration Expires: Jun 22 16:13:53 2023 UTC',
        '',
        'License Authorization:',
        '  Status: AUTHORIZED on Jun 22 16:15:44 2022 UTC',
        '  Last Communication Attempt: SUCCEEDED on Jun 22 16:15:44 2022 UTC',
        '  Next Communication Attempt: Jul 22 16:15:43 2022 UTC',
        '  Communication Deadline: Sep 20 16:12:55 2022 UTC',
      ].join('\n'),
    );
    expect(text.startsWith('Smart Licensing is ENABLED\n')).toBe(true);
    expect(text).toContain('UDI: PID:C9300-24UX,SN:FCW2134L0RN');
    expect(text).toContain('Product Instance ID: 6f1c2f4e-8d0a-4d8e-9a55-2b1c3d4e5f60');
    expect(text).toContain('Transport:\n  Type: Direct\n  URL: https://licensing.example.com');
  });

  it('prints a failed registration as seed 003 scenario 1 does', () => {
    const failed: AgentStatus = {
      ...registered,
      registration: {
        ...registered.registration,
        status: 'REGISTRATION FAILED',
        statusText: 'NOT REGISTERED - REGISTRATION FAILED',
        smartAccount: null,
        virtualAccount: null,
        exportControlled: 'Not Allowed',
        initialRegistration: { result: 'FAILED', at: '2018-10-22T14:25:31.000Z' },
        failureReason: 'Product Already Registered',
      },
      authorization: {
        ...registered.authorization,
        status: 'EVAL MODE',
        since: null,
        lastCommunicationAttempt: null,
        nextCommunicationAttempt: null,
        communicationDeadline: null,
      },
      evaluation: { remainingMs: 89 * 86_400_000 + 274_000, running: true, startedAt: null, expiredAt: null },
    };
    expect(formatStatus(failed)).toContain(
      [
        'Registration:',
        '  Status: NOT REGISTERED - REGISTRATION FAILED',
        '  Export-Controlled Functionality: Not Allowed',
        '  Initial Registration: FAILED on Oct 22 14:25:31 2018 UTC',
        '  Failure reason: Product Already Registered',
        '',
        'License Authorization:',
        '  Status: EVAL MODE',
        '  Evaluation Period Remaining: 89 days, 0 hours, 4 minutes, 34 seconds',
      ].join('\n'),
    );
  });

  it('prints the summary table, the usage blocks and everything together', () => {
    const summary = formatSummary(registered);
    expect(summary).toMatch(/License Usage:\n {2}License +Entitlement tag +Count Status\n {2}-+\n/);
    expect(summary).toMatch(/C9500 Network Advantage +regid\.2017-03\.com\.cisco\.advantagek9 +1 AUTHORIZED/);
    expect(summary).toMatch(
      /regid\.2017-07\.com\.cisco\.dna-advantage +regid\.2017-07\.com\.cisco\.dna-advantage +12 AUTHORIZED/,
    );
    expect(summary).toContain('  Last Communication Attempt: SUCCEEDED\n');
    const usage = formatUsage(registered);
    expect(usage).toContain(
      'C9500 Network Advantage (regid.2017-03.com.cisco.advantagek9):\n  Description: C9500 Network Advantage\n  Count: 1\n  Status: AUTHORIZED',
    );
    const all = formatAll(registered);
    expect(all).toContain(formatStatus(registered));
    expect(all).toContain(
      'License Usage:\n  C9500 Network Advantage (regid.2017-03.com.cisco.advantagek9):\n    Description:',
    );
    expect(all).toContain('License Summary:');
    expect(formatUsage({ ...registered, usage: [] })).toContain('(No licenses in use)');
  });
});
