import { formatPolicyStatus, formatPolicySummary, formatPolicyUsage } from '../policy/policy-status.js';
import { formatReservation } from '../reservation/reservation-status.js';
import { formatDate, formatDuration } from '../time-format.js';
import type { AgentStatus, StatusAttempt } from './agent-status.js';

type Line = string | false | null | undefined;

const block = (title: string, lines: Line[]): string =>
  [`${title}:`, ...lines.filter((l): l is string => typeof l === 'string').map((l) => `  ${l}`)].join('\n');
const date = (iso: string | null): string => (iso ? formatDate(iso) : 'None');
const attempt = (a: StatusAttempt | null): string => (a ? `${a.result} on ${formatDate(a.at)}` : 'None');
const field = (label: string, value: string | null): Line => value !== null && `${label}: ${value}`;

const TRANSPORT_TYPE = { direct: 'Direct', proxy: 'Proxy', satellite: 'Satellite', none: 'Not Configured' } as const;

function productBlock(s: AgentStatus): string {
  return block('Product Information', [
    `UDI: ${s.identity.udi}`,
    field('Hostname', s.identity.hostname),
    `Software Tag: ${s.identity.softwareTag}`,
    field('Product Instance ID', s.identity.instanceId),
  ]);
}

function transportBlock(s: AgentStatus): string {
  const t = s.transport;
  return block('Transport', [
    `Type: ${TRANSPORT_TYPE[t.type]}`,
    field('URL', t.url),
    field('Proxy', t.proxy),
    field('Trusted Root (SHA-256)', t.pinnedFingerprint),
  ]);
}

function registrationBlock(s: AgentStatus, brief = false): string {
  const r = s.registration;
  const registered = r.status === 'REGISTERED';
  return block('Registration', [
    `Status: ${r.statusText}`,
    field('Smart Account', r.smartAccount),
    field('Virtual Account', r.virtualAccount),
    `Export-Controlled Functionality: ${r.exportControlled}`,
    !brief && r.initialRegistration && `Initial Registration: ${attempt(r.initialRegistration)}`,
    registered && `Last Renewal Attempt: ${attempt(r.lastRenewalAttempt)}`,
    !brief && field('Failure reason', r.failureReason),
    registered && `Next Renewal Attempt: ${date(r.nextRenewalAttempt)}`,
    !brief && registered && `Registration Expires: ${date(r.registrationExpires)}`,
    !brief && r.nextRegistrationAttempt && `Next Registration Attempt: ${date(r.nextRegistrationAttempt)}`,
  ]);
}

function authorizationBlock(s: AgentStatus, brief = false): string {
  const a = s.authorization;
  const since = !brief && a.since ? ` on ${formatDate(a.since)}` : '';
  const last = a.lastCommunicationAttempt;
  return block('License Authorization', [
    `Status: ${a.status}${since}`,
    a.status === 'EVAL MODE' && `Evaluation Period Remaining: ${formatDuration(s.evaluation.remainingMs)}`,
    last && `Last Communication Attempt: ${brief ? last.result : attempt(last)}`,
    !brief && field('Failure reason', a.failureReason),
    a.nextCommunicationAttempt && `Next Communication Attempt: ${date(a.nextCommunicationAttempt)}`,
    !brief && a.communicationDeadline && `Communication Deadline: ${date(a.communicationDeadline)}`,
  ]);
}

/** A warning line when agent time runs ahead of the host's clock (it was set back). */
function clockLine(s: AgentStatus): string[] {
  const ahead = s.clock.aheadOfWallClockMs;
  if (ahead < 1000) return [];
  return [
    `Warning: the system clock was set back; licensing time runs ${formatDuration(ahead)} ahead of it (no evaluation time is given back, no deadline moves).`,
  ];
}

/** `show license status`: the IOS XE block of seed 004, field for field, plus product and transport. */
export function formatStatus(status: AgentStatus): string {
  if (status.policy) return formatPolicyStatus(status);
  return [
    'Smart Licensing is ENABLED',
    ...clockLine(status),
    productBlock(status),
    transportBlock(status),
    registrationBlock(status),
    authorizationBlock(status),
    formatReservation(status),
  ]
    .filter((b): b is string => b !== undefined)
    .join('\n\n');
}

/** A table of the usage: License, Entitlement tag, Count, Status (as in `show license summary`). */
function usageTable(status: AgentStatus, title: string): string {
  if (status.usage.length === 0) return `${title}:\n  No licenses in use.`;
  const rows = status.usage.map((u) => [u.displayName ?? u.tag, u.tag, String(u.count), u.status]);
  const header = ['License', 'Entitlement tag', 'Count', 'Status'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    `  ${cells.map((c, i) => (i === 2 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(' ')}`.trimEnd();
  const rule = `  ${'-'.repeat(widths.reduce((sum, w) => sum + w + 1, -1))}`;
  return [`${title}:`, line(header), rule, ...rows.map(line)].join('\n');
}

/** One block per entitlement in use, as `show license usage` prints them. */
function usageBlocks(status: AgentStatus): string[] {
  return status.usage.map((u) =>
    block(`${u.displayName ?? u.tag} (${u.tag})`, [
      `Description: ${u.displayName ?? u.tag}`,
      `Count: ${u.count}`,
      `Status: ${u.status}`,
    ]),
  );
}

/** `show license summary`: registration and authorization in brief, then the usage table. */
export function formatSummary(status: AgentStatus): string {
  if (status.policy) return formatPolicySummary(status);
  return [
    'Smart Licensing is ENABLED',
    registrationBlock(status, true),
    authorizationBlock(status, true),
    usageTable(status, 'License Usage'),
  ].join('\n\n');
}

/** `show license usage`: the authorization status, then one block per entitlement in use. */
export function formatUsage(status: AgentStatus): string {
  if (status.policy) return formatPolicyUsage(status);
  const since = status.authorization.since ? ` on ${formatDate(status.authorization.since)}` : '';
  const head = block('License Authorization', [`Status: ${status.authorization.status}${since}`]);
  const blocks = usageBlocks(status);
  return [head, ...(blocks.length ? blocks : ['(No licenses in use)'])].join('\n\n');
}

/** `show license all`: the status, every entitlement in use, and the summary table. */
export function formatAll(status: AgentStatus): string {
  if (status.policy) return [formatPolicyStatus(status), formatPolicyUsage(status)].join('\n\n');
  const indent = (text: string): string => text.replace(/^/gm, '  ');
  const blocks = usageBlocks(status);
  const usage = blocks.length
    ? `License Usage:\n${blocks.map(indent).join('\n\n')}`
    : 'License Usage:\n  No licenses in use.';
  return [formatStatus(status), evaluationBlock(status), usage, usageTable(status, 'License Summary')].join('\n\n');
}

/** The evaluation period in full (in `show license all`): remaining, whether it runs, when it started or ended. */
function evaluationBlock(s: AgentStatus): string {
  const ev = s.evaluation;
  return block('Evaluation Period', [
    `Remaining: ${formatDuration(ev.remainingMs)}`,
    `Clock: ${ev.expiredAt ? 'EXPIRED' : ev.running ? 'RUNNING' : 'STOPPED'}`,
    ev.startedAt && `Started: ${formatDate(ev.startedAt)}`,
    ev.expiredAt && `Expired: ${formatDate(ev.expiredAt)}`,
  ]);
}
