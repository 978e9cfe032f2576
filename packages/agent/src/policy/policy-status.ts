import type { LicenseClass, Policy, PolicyTerms } from '@smartlic/protocol/core';
import type { AgentStatus } from '../status/agent-status.js';
import { formatDate } from '../time-format.js';
import { type PolicyState, policySchedule } from './policy-state.js';

/** The policy-model blocks of `show license status --json` (SPEC §9), present on a policy device. */
export interface PolicyStatus {
  /** `Trust Code Installed`. */
  trustCode: { installed: boolean; installedAt: string | null; scope: 'local' | 'all' | null };
  /** `Account Information` (from the trust code). */
  account: { smartAccount: string | null; virtualAccount: string | null };
  /** `Policy`: its name and the terms of every license class (days). */
  policy: { name: string; custom: boolean; classes: Record<LicenseClass, PolicyTerms> };
  /** `Usage Reporting`. Dates ISO 8601; null: None. */
  usageReporting: {
    lastAckReceived: string | null;
    nextAckDeadline: string | null;
    /** Days; 0 = no reporting. */
    reportingPushIntervalDays: number;
    nextAckPushCheck: string | null;
    nextReportPush: string | null;
    lastReportPush: string | null;
    lastReportFileWrite: string | null;
    /** Reports made and not yet acknowledged. */
    unacknowledgedReports: number;
  };
  /** Smart Licensing Authorization Codes installed. */
  authorizations: { slacId: string; licenses: { tag: string; count: number }[]; issuedAt: string }[];
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/** Adds the policy-model blocks to a status, and the usage as IN USE / NOT IN USE. */
export function applyPolicy(status: AgentStatus, state: PolicyState): AgentStatus {
  const schedule = policySchedule(state);
  const policy: Policy = state.policy;
  const inUse = Object.entries(state.open).map(([tag, o]) => ({
    tag,
    displayName: null,
    count: o.count,
    status: 'IN USE' as const,
  }));
  const reported = new Set([
    ...Object.keys(state.closed),
    ...state.unacked.flatMap((r) => r.payload.usage.map((u) => u.tag)),
  ]);
  const notInUse = [...reported]
    .filter((tag) => !state.open[tag])
    .map((tag) => ({ tag, displayName: null, count: 0, status: 'NOT IN USE' as const }));
  return {
    ...status,
    identity: { ...status.identity, instanceId: state.trust?.instanceId ?? null },
    usage: [...inUse, ...notInUse].sort((a, b) => a.tag.localeCompare(b.tag)),
    policy: {
      trustCode: {
        installed: state.trust !== undefined,
        installedAt: iso(state.trust?.installedAt),
        scope: state.trust?.scope ?? null,
      },
      account: {
        smartAccount: state.trust?.smartAccount.name ?? null,
        virtualAccount: state.trust?.virtualAccount.name ?? null,
      },
      policy: { name: policy.name, custom: policy.custom, classes: policy.classes },
      usageReporting: {
        lastAckReceived: iso(state.lastAck?.at),
        nextAckDeadline: iso(schedule.nextAckDeadline),
        reportingPushIntervalDays: schedule.pushIntervalDays,
        nextAckPushCheck: iso(schedule.nextReportPush),
        nextReportPush: iso(schedule.nextReportPush),
        lastReportPush: iso(state.lastReportPushAt),
        lastReportFileWrite: iso(state.lastReportFileWriteAt),
        unacknowledgedReports: state.unacked.length,
      },
      authorizations: state.slacs.map((s) => ({
        slacId: s.slacId,
        licenses: s.licenses,
        issuedAt: new Date(s.issuedAt).toISOString(),
      })),
    },
  };
}

type Line = string | false | null | undefined;
const block = (title: string, lines: Line[]): string =>
  [`${title}:`, ...lines.filter((l): l is string => typeof l === 'string').map((l) => `  ${l}`)].join('\n');
const date = (value: string | null): string => (value ? formatDate(value) : 'None');

const CLASS_TITLE: Record<LicenseClass, string> = {
  'unenforced-perpetual': 'Unenforced/Non-Export Perpetual Attributes',
  'unenforced-subscription': 'Unenforced/Non-Export Subscription Attributes',
  enforced: 'Enforced (Perpetual/Subscription) License Attributes',
  'export-controlled': 'Export (Perpetual/Subscription) License Attributes',
};

function terms(t: PolicyTerms): string[] {
  return [
    `    First report requirement (days): ${t.firstReportDays}`,
    `    Reporting frequency (days): ${t.reportingFrequencyDays}`,
    `    Report on change (days): ${t.onChangeDays}`,
  ];
}

/** `show license status` of a policy device: the SLUP blocks of SPEC §9. */
export function formatPolicyStatus(s: AgentStatus): string {
  const p = s.policy as PolicyStatus;
  const u = p.usageReporting;
  const t = s.transport;
  const policyLines = [
    `Policy in use: ${p.policy.name}`,
    ...(Object.keys(CLASS_TITLE) as LicenseClass[]).flatMap((c) => [
      `${CLASS_TITLE[c]}:`,
      ...terms(p.policy.classes[c]),
    ]),
  ];
  return [
    block('Smart Licensing Using Policy', ['Status: ENABLED']),
    block('Account Information', [
      `Smart Account: ${p.account.smartAccount ?? '<none>'}`,
      `Virtual Account: ${p.account.virtualAccount ?? '<none>'}`,
    ]),
    block('Data Privacy', [
      `Sending Hostname: ${s.identity.hostname ? 'yes' : 'no'}`,
      'Callhome hostname privacy: DISABLED',
      'Version privacy: DISABLED',
    ]),
    block('Transport', [
      `Type: ${t.type === 'none' ? 'Not Configured' : t.type === 'satellite' ? 'Satellite' : 'Smart'}`,
      t.url && `URL: ${t.url}`,
      t.proxy && `Proxy: ${t.proxy}`,
    ]),
    block('Policy', policyLines),
    block('Usage Reporting', [
      `Last ACK received: ${date(u.lastAckReceived)}`,
      `Next ACK deadline: ${date(u.nextAckDeadline)}`,
      `Reporting push interval: ${u.reportingPushIntervalDays === 0 ? '0 (no reporting)' : `${u.reportingPushIntervalDays} days`}`,
      `Next ACK push check: ${date(u.nextAckPushCheck)}`,
      `Next report push: ${date(u.nextReportPush)}`,
      `Last report push: ${date(u.lastReportPush)}`,
      `Last report file write: ${date(u.lastReportFileWrite)}`,
    ]),
    block('Trust Code Installed', [
      p.trustCode.installed ? `${s.identity.udi}: ${date(p.trustCode.installedAt)}` : '<none>',
    ]),
    ...(p.authorizations.length > 0
      ? [
          block(
            'Authorization Codes Installed',
            p.authorizations.map(
              (a) => `${a.licenses.map((l) => `${l.tag} (${l.count})`).join(', ')}: ${date(a.issuedAt)}`,
            ),
          ),
        ]
      : []),
  ].join('\n\n');
}

/** The usage of a policy device: one block per license, IN USE or NOT IN USE. */
export function formatPolicyUsage(s: AgentStatus): string {
  if (s.usage.length === 0) return 'License Usage:\n  No licenses in use.';
  return [
    'License Usage:',
    ...s.usage.map((u) =>
      block(`  ${u.tag}`, [`  Description: ${u.displayName ?? u.tag}`, `  Count: ${u.count}`, `  Status: ${u.status}`]),
    ),
  ].join('\n');
}

/** `show license summary` of a policy device. */
export function formatPolicySummary(s: AgentStatus): string {
  const p = s.policy as PolicyStatus;
  const rows = s.usage.map((u) => `  ${u.tag.padEnd(40)} ${String(u.count).padStart(5)} ${u.status}`);
  return [
    block('Account Information', [
      `Smart Account: ${p.account.smartAccount ?? '<none>'}`,
      `Virtual Account: ${p.account.virtualAccount ?? '<none>'}`,
    ]),
    [
      'License Usage:',
      `  ${'License'.padEnd(40)} ${'Count'.padStart(5)} Status`,
      ...(rows.length > 0 ? rows : ['  No licenses in use.']),
    ].join('\n'),
  ].join('\n\n');
}
