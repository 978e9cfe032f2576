import type { AccountInfo, ComplianceStatus } from '@smartlic/protocol/core';
import type { ClockMark } from '../core/agent-time.js';

/**
 * Version of the persisted `state.json` layout. Version 2 added the integrity MAC and the
 * clock mark; version 1 files (unsigned) are refused.
 */
export const STATE_VERSION = 2;

/** Who the device is: its UDI (PID + SN), hostname, software tag and enforcement profile. */
export interface DeviceIdentity {
  /** Product ID, the first half of the UDI (e.g. `C9300-24UX`). */
  pid: string;
  /** Serial number, the second half of the UDI. */
  sn: string;
  /** The device's host name, shown by the authority. */
  hostname?: string;
  /** The product's software tag (`regid.…`). */
  softwareTag: string;
  /** The enforcement profile's name: `cusp`, `catalyst`, `expressway` or the host's own. */
  profile: string;
}

/** Registration status words of SPEC §5. */
export type RegistrationStatus =
  | 'UNREGISTERED'
  | 'REGISTERING'
  | 'REGISTERED'
  | 'REGISTRATION FAILED'
  | 'REGISTRATION EXPIRED';

/** Authorization status words of SPEC §5 (`AUTHORIZED - RESERVED` comes with reservations). */
export type AuthorizationStatus =
  | 'EVAL MODE'
  | 'EVAL EXPIRED'
  | 'AUTHORIZED'
  | 'OUT OF COMPLIANCE'
  | 'AUTHORIZATION EXPIRED'
  | 'AUTHORIZED - RESERVED'
  | 'NO LICENSES IN USE';

/** Status of one entitlement tag in use. */
export type UsageStatus =
  | 'AUTHORIZED'
  | 'OUT OF COMPLIANCE'
  | 'EVAL MODE'
  | 'EVAL EXPIRED'
  | 'AUTHORIZATION EXPIRED'
  | 'RESERVED'
  | 'NOT AUTHORIZED'
  /** Smart Licensing Using Policy: a license is only in use or not (SPEC §9). */
  | 'IN USE'
  | 'NOT IN USE';

/** Result of the last attempt to talk to the authority. */
export type AttemptResult = 'SUCCEEDED' | 'FAILED' | 'PENDING';

/** One attempt and when it was made. */
export interface Attempt {
  at: number;
  result: AttemptResult;
}

/** The last failure shown as "Failure reason". */
export interface FailureRecord {
  at: number;
  reason: string;
  code?: string;
}

/** The ID certificate and the signing certificate that issued it. */
export interface IdCertificate {
  instanceId: string;
  pem: string;
  serial: string;
  /** When the agent received it (agent clock). */
  issuedAt: number;
  expiresAt: number;
  renewIntervalMs: number;
  signingCertPem: string;
  signingCertSerial: string;
}

/** A registration waiting for its (next) attempt. The ID token lives here only while pending. */
export interface PendingRegistration {
  idToken: string;
  force: boolean;
  firstAttemptAt: number;
  nextAttemptAt: number;
  /**
   * An attempt went out and no answer came back (a crash, a timeout): the authority may have
   * registered the device, so the next attempt is sent with `force`.
   */
  maybeDelivered?: boolean;
}

/** Registration with the authority. `certificate` is present exactly while REGISTERED. */
export interface RegistrationState {
  status: RegistrationStatus;
  pending?: PendingRegistration;
  certificate?: IdCertificate;
  account?: AccountInfo;
  /** Outcome of the latest registration attempt ("Initial Registration: SUCCEEDED on …"). */
  initial?: Attempt;
  lastRenewal?: Attempt;
  nextRenewalAt?: number;
  failure?: FailureRecord;
}

/** One entitlement as the authority last authorized it. */
export interface GrantedEntitlement {
  tag: string;
  requested: number;
  status: ComplianceStatus;
  displayName?: string;
}

/** The last successful authorization of the current registration. */
export interface Grant {
  compliance: ComplianceStatus;
  /** Authority's time of the authorization. */
  authorizedAt: number;
  /** Agent's time when the answer arrived ("AUTHORIZED on …"). */
  receivedAt: number;
  /** Communication deadline: the authorization lapses then. */
  expiresAt: number;
  renewIntervalMs: number;
  retryIntervalMs: number;
  entitlements: GrantedEntitlement[];
  /** When the current run of OUT OF COMPLIANCE answers began (its retry schedule counts from it). */
  outOfComplianceSince?: number;
}

/** Authorization ("Mother May I") state and its communication record. */
export interface AuthorizationState {
  grant?: Grant;
  /** Set when the grant passed its deadline (AUTHORIZATION EXPIRED). */
  expiredAt?: number;
  lastAttempt?: Attempt;
  failure?: FailureRecord;
  /** First failure of the current run of failures (retry schedules count from it). */
  failingSince?: number;
  nextAttemptAt?: number;
}

/** The evaluation clock: 90 days of use, once per device, never reset. */
export interface EvaluationState {
  usedMs: number;
  /** Set while the clock runs; time since then is not yet in `usedMs`. */
  runningSince?: number;
  startedAt?: number;
  expiredAt?: number;
  /** The smallest "days remaining" warning already given (30, 15, 7, 1); warnings are never repeated. */
  warnedDays?: number;
  /** Set while an offline reservation is installed: the device is licensed, so the clock does not run. */
  reserved?: boolean;
}

/** One entitlement the product declares in use. */
export interface UsageEntry {
  tag: string;
  count: number;
}

/** Where call-home messages go. */
export interface Destination {
  url: string;
  proxy?: string;
}

/**
 * What the agent trusts, kept in two lists so that a certificate trusted for TLS only can never
 * vouch for a licensing answer.
 */
export interface TrustState {
  /**
   * The authority's root certificates (PEM): the only anchors a response's signing certificate
   * may chain to, and trusted for TLS too. Pinned on first use or imported as the authority root.
   */
  anchors: string[];
  /** SHA-256 fingerprint of the root pinned on first use. */
  pinnedFingerprint?: string;
  /**
   * Extra TLS trust points (PEM), e.g. the CA of a TLS-intercepting proxy: trusted to identify
   * HTTPS peers only, never to sign responses. Absent in states written before it existed.
   */
  tlsTrustPoints?: string[];
}

/** Everything the agent persists in `state.json`. */
export interface AgentState {
  version: typeof STATE_VERSION;
  /** Incremented at every save; lets a process notice that another one changed the state. */
  revision: number;
  createdAt: number;
  identity: DeviceIdentity;
  /** SHA-256 (hex) of the device key's SPKI; ties `device-key.pem` to this state. */
  deviceKeyFingerprint: string;
  destination?: Destination;
  trust: TrustState;
  usage: UsageEntry[];
  registration: RegistrationState;
  authorization: AuthorizationState;
  evaluation: EvaluationState;
  /** The latest reading of the clock: agent time never goes back, even when the wall clock does. */
  clock: ClockMark;
}

/** The state of a freshly initialised device. */
export function initialState(identity: DeviceIdentity, deviceKeyFingerprint: string, now: number): AgentState {
  return {
    version: STATE_VERSION,
    revision: 0,
    createdAt: now,
    identity,
    deviceKeyFingerprint,
    trust: { anchors: [], tlsTrustPoints: [] },
    usage: [],
    registration: { status: 'UNREGISTERED' },
    authorization: {},
    evaluation: { usedMs: 0 },
    clock: { agentTime: now, wallTime: now },
  };
}
