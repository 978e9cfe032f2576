import {
  type Ack,
  DAY,
  DEFAULT_POLICY_NAME,
  DEFAULT_POLICY_TERMS,
  type LicenseClass,
  type Policy,
  RUM_SAMPLE_INTERVAL_MS,
  type RumMeasurement,
  type RumReport,
  type SignedRumReport,
  type Slac,
  type TrustCodeFields,
} from '@smartlic/protocol/core';

/** The trust code installed on the device (SPEC §9), as the authority issued it. */
export interface TrustCode extends TrustCodeFields {
  /** When it was installed (agent time). */
  installedAt: number;
  scope: 'local' | 'all';
}

/** A tag's in-use count since `since`, not yet in a report. */
export interface OpenMeasurement {
  count: number;
  since: number;
  licenseClass: LicenseClass;
}

/**
 * The policy model's state (`policy.json`): the trust code, the policy, the usage being measured,
 * the reports made and not yet acknowledged, and the reporting history. Every change is saved
 * atomically before it is acted on, so a report is made once and kept until an ACK names it.
 */
export interface PolicyState {
  version: 1;
  model: 'policy';
  trust?: TrustCode;
  policy: Policy;
  /** Open measurements per tag. */
  open: Record<string, OpenMeasurement>;
  /** Closed measurements per tag (the count changed) waiting for the next report. */
  closed: Record<string, { licenseClass: LicenseClass; measurements: RumMeasurement[] }>;
  /** Signed reports made and not yet acknowledged, oldest first. */
  unacked: SignedRumReport[];
  /** Ids of reports already written to a usage file (`save usage unreported` leaves them out). */
  written: string[];
  /** First time anything was in use (the first-report deadline counts from it). */
  firstUseAt?: number;
  /** The first change of use since the last ACK (the on-change deadline counts from it). */
  changedAt?: number;
  lastAck?: { at: number; ackId: string; issuedAt: number };
  lastReportPushAt?: number;
  lastReportFileWriteAt?: number;
  /** The deadline for which `%SMART_LIC-3-REPORTING_REQUIRED` was raised (once per deadline). */
  reportingRequiredFor?: number;
  /** SLACs installed. */
  slacs: Slac[];
}

/** The default policy: the vendor's terms (SPEC §9). */
export function defaultPolicy(): Policy {
  return { name: DEFAULT_POLICY_NAME, custom: false, classes: structuredClone(DEFAULT_POLICY_TERMS) };
}

/** A fresh policy-model state. */
export function emptyPolicyState(): PolicyState {
  return {
    version: 1,
    model: 'policy',
    policy: defaultPolicy(),
    open: {},
    closed: {},
    unacked: [],
    written: [],
    slacs: [],
  };
}

/** Samples taken from `start` to `end` at the sample interval (at least one). */
export function samplesBetween(start: number, end: number): number {
  return Math.max(1, Math.floor((end - start) / RUM_SAMPLE_INTERVAL_MS) + 1);
}

function closeOpen(state: PolicyState, tag: string, now: number): void {
  const open = state.open[tag];
  if (!open) return;
  delete state.open[tag];
  if (open.count === 0 || now <= open.since) return;
  const list = state.closed[tag] ?? { licenseClass: open.licenseClass, measurements: [] };
  list.measurements.push({
    start: open.since,
    end: now,
    sampleIntervalMs: RUM_SAMPLE_INTERVAL_MS,
    samples: samplesBetween(open.since, now),
    count: open.count,
  });
  state.closed[tag] = list;
}

/** The license class a tag is measured under: enforced while a SLAC covers it, else unenforced perpetual. */
export function classOf(state: PolicyState, tag: string): LicenseClass {
  return state.slacs.some((s) => s.licenses.some((l) => l.tag === tag)) ? 'enforced' : 'unenforced-perpetual';
}

/** The product declares `count` of `tag` in use at `now`: the tag's open measurement closes and a new one starts. */
export function declareUse(current: PolicyState, tag: string, count: number, now: number): PolicyState {
  const open = current.open[tag];
  if ((open?.count ?? 0) === count) return current;
  const state = structuredClone(current);
  closeOpen(state, tag, now);
  if (count > 0) state.open[tag] = { count, since: now, licenseClass: classOf(state, tag) };
  state.firstUseAt ??= count > 0 ? now : undefined;
  if (state.firstUseAt === undefined) delete state.firstUseAt;
  state.changedAt ??= now;
  return state;
}

/**
 * The report of everything measured up to `now` (closed measurements, and the open ones closed at
 * `now` and reopened from it), or undefined when nothing was measured. The state it returns holds
 * the measurements only in that report.
 */
export function cutReport(
  current: PolicyState,
  now: number,
  ids: { reportId: string; udi: { pid: string; sn: string } },
): { state: PolicyState; report: RumReport } | undefined {
  const trust = current.trust;
  if (!trust) return undefined;
  const state = structuredClone(current);
  for (const [tag, open] of Object.entries(current.open)) {
    closeOpen(state, tag, now);
    state.open[tag] = { ...open, since: now };
  }
  const usage = Object.entries(state.closed)
    .filter(([, c]) => c.measurements.length > 0)
    .map(([tag, c]) => ({ tag, licenseClass: c.licenseClass, measurements: c.measurements }));
  if (usage.length === 0) return undefined;
  state.closed = {};
  const report: RumReport = {
    type: 'rum-report',
    version: 1,
    reportId: ids.reportId,
    instanceId: trust.instanceId,
    idCertSerial: trust.idCertSerial,
    udi: ids.udi,
    createdAt: now,
    usage,
  };
  return { state, report };
}

/** Takes an ACK: the reports it names are done, its policy becomes the device's, the deadlines restart. */
export function applyAck(current: PolicyState, ack: Ack, now: number): PolicyState {
  const state = structuredClone(current);
  const done = new Set(ack.reportIds);
  state.unacked = state.unacked.filter((r) => !done.has(r.payload.reportId));
  state.written = state.written.filter((id) => !done.has(id));
  state.policy = ack.policy;
  state.lastAck = { at: now, ackId: ack.ackId, issuedAt: ack.issuedAt };
  if (state.unacked.length === 0 && Object.keys(state.closed).length === 0) delete state.changedAt;
  delete state.reportingRequiredFor;
  return state;
}

/** When reporting is due, from the policy and the classes in use (SPEC §9). Times in ms; undefined: none. */
export interface PolicySchedule {
  /** The shortest reporting frequency of the classes in use, in days (0: no reporting). */
  pushIntervalDays: number;
  nextAckDeadline: number | undefined;
  nextReportPush: number | undefined;
}

/** The classes whose terms apply now: those of the tags in use or waiting to be reported. */
function classesInUse(state: PolicyState): LicenseClass[] {
  const classes = new Set<LicenseClass>();
  for (const open of Object.values(state.open)) classes.add(open.licenseClass);
  for (const closed of Object.values(state.closed)) classes.add(closed.licenseClass);
  for (const r of state.unacked) for (const u of r.payload.usage) classes.add(u.licenseClass);
  return [...classes];
}

const earliest = (values: Array<number | undefined>): number | undefined => {
  const defined = values.filter((v): v is number => v !== undefined);
  return defined.length > 0 ? Math.min(...defined) : undefined;
};

/**
 * The reporting schedule: the ACK deadline is the earliest of, per class in use, the first report
 * (from first use, before any ACK), the reporting frequency (from the last ACK) and the report on
 * change (from the first change since the last ACK, once there was one); 0 days means "not required". Reports are
 * pushed every `pushIntervalDays` after the last push (or first use).
 */
export function policySchedule(state: PolicyState): PolicySchedule {
  const terms = classesInUse(state).map((c) => state.policy.classes[c]);
  const pushIntervalDays = Math.min(...terms.map((t) => t.reportingFrequencyDays).filter((d) => d > 0), Infinity);
  const after = (from: number | undefined, days: number) =>
    from === undefined || days <= 0 ? undefined : from + days * DAY;
  const deadlines = terms.flatMap((t) => [
    state.lastAck ? after(state.lastAck.at, t.reportingFrequencyDays) : after(state.firstUseAt, t.firstReportDays),
    state.lastAck ? after(state.changedAt, t.onChangeDays) : undefined,
  ]);
  const interval = Number.isFinite(pushIntervalDays) ? pushIntervalDays : 0;
  return {
    pushIntervalDays: interval,
    nextAckDeadline: earliest(deadlines),
    nextReportPush: interval > 0 ? after(state.lastReportPushAt ?? state.firstUseAt, interval) : undefined,
  };
}
