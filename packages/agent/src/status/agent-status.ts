import { authorizationStatus, usageStatus } from '../core/derive-status.js';
import { evaluationRemaining } from '../core/evaluation.js';
import { transition } from '../core/transition.js';
import type { PolicyStatus } from '../policy/policy-status.js';
import type { ReservationStatus } from '../reservation/reservation-status.js';
import type {
  AgentState,
  AttemptResult,
  AuthorizationStatus,
  RegistrationStatus,
  UsageStatus,
} from '../state/agent-state.js';
import { isoOrNull } from '../time-format.js';
import { redactPassword, type TransportType, transportType } from '../transport/transport-type.js';

/** An attempt as the status shows it: `SUCCEEDED on <ISO date>`. */
export interface StatusAttempt {
  /** `SUCCEEDED`, `FAILED`, or `PENDING` while unanswered. */
  result: AttemptResult;
  /** When (ISO 8601). */
  at: string;
}

/**
 * What `show license status --json` prints. Dates are ISO 8601 (UTC); `null` means "None" /
 * not applicable. Status words are exactly SPEC §5's.
 */
export interface AgentStatus {
  /** Always `ENABLED`: smartlic devices use Smart Licensing. */
  smartLicensing: 'ENABLED';
  /** When this status was computed (agent clock). */
  generatedAt: string;
  /** The device: its UDI, hostname, software tag, profile, and product instance id once registered. */
  identity: {
    pid: string;
    sn: string;
    /** `PID:<pid>,SN:<sn>`. */
    udi: string;
    hostname: string | null;
    softwareTag: string;
    profile: string;
    instanceId: string | null;
  };
  /** Where the device calls home, and what it trusts. */
  transport: {
    /** `satellite` when the URL names one (its path ends with `/SmartTransport`), else `proxy` or `direct`. */
    type: TransportType;
    url: string | null;
    proxy: string | null;
    /** SHA-256 fingerprint of the root pinned on first use, if one was. */
    pinnedFingerprint: string | null;
    /** How many authority roots are trusted to sign responses (and for TLS). */
    trustAnchors: number;
    /** How many extra TLS trust points (e.g. a proxy's CA) are trusted, for HTTPS only. */
    tlsTrustPoints: number;
  };
  /** Registration status, account, certificate and attempts (`show license status`). */
  registration: {
    status: RegistrationStatus;
    /** The status as IOS XE prints it, e.g. `NOT REGISTERED - REGISTRATION FAILED`. */
    statusText: string;
    smartAccount: string | null;
    smartAccountDomain: string | null;
    virtualAccount: string | null;
    exportControlled: 'Allowed' | 'Not Allowed';
    initialRegistration: StatusAttempt | null;
    lastRenewalAttempt: StatusAttempt | null;
    nextRenewalAttempt: string | null;
    registrationExpires: string | null;
    nextRegistrationAttempt: string | null;
    failureReason: string | null;
    idCertSerial: string | null;
  };
  /** Authorization status, its attempts and deadlines. */
  authorization: {
    status: AuthorizationStatus;
    /** When the status began (e.g. `AUTHORIZED on …`), where that applies. */
    since: string | null;
    lastCommunicationAttempt: StatusAttempt | null;
    nextCommunicationAttempt: string | null;
    communicationDeadline: string | null;
    failureReason: string | null;
  };
  /**
   * Agent time (`generatedAt` and every date of this status) against the host's clock: they differ only after
   * the host's clock was set back, when agent time carries on instead of going back with it.
   */
  clock: {
    /** The host's clock when this status was computed. */
    wallTime: string;
    /** How far agent time runs ahead of the host's clock (ms); 0 unless the clock was set back. */
    aheadOfWallClockMs: number;
  };
  /** The evaluation period: time left, and whether it is being used now. */
  evaluation: {
    /** Evaluation period remaining (ms); frozen while the device is registered. */
    remainingMs: number;
    running: boolean;
    startedAt: string | null;
    expiredAt: string | null;
  };
  /** The licenses the product declared in use, each with its status. */
  usage: { tag: string; displayName: string | null; count: number; status: UsageStatus }[];
  /** Offline license reservation (SPEC §7), present once reservation was enabled. */
  reservation?: ReservationStatus;
  /** Smart Licensing Using Policy (SPEC §9): present on a device of the policy model. */
  policy?: PolicyStatus;
}

const REGISTRATION_TEXT: Record<RegistrationStatus, string> = {
  UNREGISTERED: 'UNREGISTERED',
  REGISTERING: 'REGISTERING - REGISTRATION IN PROGRESS',
  REGISTERED: 'REGISTERED',
  'REGISTRATION FAILED': 'NOT REGISTERED - REGISTRATION FAILED',
  'REGISTRATION EXPIRED': 'UNREGISTERED - REGISTRATION EXPIRED',
};

const attempt = (a: { at: number; result: AttemptResult } | undefined): StatusAttempt | null =>
  a ? { result: a.result, at: new Date(a.at).toISOString() } : null;

/**
 * The status of `state` at agent time `now` (the host's clock read `wall`); time-driven changes
 * due by `now` are applied first.
 */
export function buildStatus(current: AgentState, now: number, wall = now): AgentStatus {
  const state = transition(current, { type: 'tick' }, now).state;
  const { identity, registration: reg, authorization: auth, evaluation: ev } = state;
  const account = reg.account;
  const status = authorizationStatus(state);
  return {
    smartLicensing: 'ENABLED',
    generatedAt: new Date(now).toISOString(),
    identity: {
      pid: identity.pid,
      sn: identity.sn,
      udi: `PID:${identity.pid},SN:${identity.sn}`,
      hostname: identity.hostname ?? null,
      softwareTag: identity.softwareTag,
      profile: identity.profile,
      instanceId: reg.certificate?.instanceId ?? null,
    },
    transport: {
      type: transportType(state.destination),
      url: state.destination?.url ?? null,
      proxy: state.destination?.proxy ? redactPassword(state.destination.proxy) : null,
      pinnedFingerprint: state.trust.pinnedFingerprint ?? null,
      trustAnchors: state.trust.anchors.length,
      tlsTrustPoints: state.trust.tlsTrustPoints?.length ?? 0,
    },
    registration: {
      status: reg.status,
      statusText: REGISTRATION_TEXT[reg.status],
      smartAccount: account?.smartAccount.name ?? null,
      smartAccountDomain: account?.smartAccount.domain ?? null,
      virtualAccount: account?.virtualAccount.name ?? null,
      exportControlled: account?.exportControlled ? 'Allowed' : 'Not Allowed',
      initialRegistration: attempt(reg.initial),
      lastRenewalAttempt: attempt(reg.lastRenewal),
      nextRenewalAttempt: isoOrNull(reg.certificate ? reg.nextRenewalAt : undefined),
      registrationExpires: isoOrNull(reg.certificate?.expiresAt),
      nextRegistrationAttempt: isoOrNull(reg.certificate ? undefined : reg.pending?.nextAttemptAt),
      failureReason: reg.failure?.reason ?? null,
      idCertSerial: reg.certificate?.serial ?? null,
    },
    authorization: {
      status,
      since: isoOrNull(statusSince(state, status)),
      lastCommunicationAttempt: attempt(auth.lastAttempt),
      nextCommunicationAttempt: isoOrNull(reg.certificate ? auth.nextAttemptAt : undefined),
      communicationDeadline: isoOrNull(auth.grant?.expiresAt),
      failureReason: auth.lastAttempt?.result === 'SUCCEEDED' ? null : (auth.failure?.reason ?? null),
    },
    clock: { wallTime: new Date(wall).toISOString(), aheadOfWallClockMs: Math.max(0, now - wall) },
    evaluation: {
      remainingMs: evaluationRemaining(ev, now),
      running: ev.runningSince !== undefined,
      startedAt: isoOrNull(ev.startedAt),
      expiredAt: isoOrNull(ev.expiredAt),
    },
    usage: state.usage.map((u) => ({
      tag: u.tag,
      displayName: auth.grant?.entitlements.find((e) => e.tag === u.tag)?.displayName ?? null,
      count: u.count,
      status: usageStatus(state, u),
    })),
  };
}

function statusSince(state: AgentState, status: AuthorizationStatus): number | undefined {
  switch (status) {
    case 'AUTHORIZED':
    case 'OUT OF COMPLIANCE':
      return state.authorization.grant?.receivedAt;
    case 'AUTHORIZATION EXPIRED':
      return state.authorization.expiredAt;
    case 'EVAL EXPIRED':
      return state.evaluation.expiredAt;
    default:
      return undefined;
  }
}
