import type { ReservedLicense } from '@smartlic/protocol/core';
import type { LicenseSnapshot } from '../enforcement/license-snapshot.js';
import type { AgentStatus } from '../status/agent-status.js';
import { formatDate } from '../time-format.js';
import type { ReservationState } from './reservation-state.js';

/** The `reservation` block of `show license status --json`. */
export interface ReservationStatus {
  /** `NOT ENABLED`, `ENABLED` (nothing requested), `REQUEST PENDING`, or `INSTALLED`. */
  status: 'NOT ENABLED' | 'ENABLED' | 'REQUEST PENDING' | 'INSTALLED';
  /** `SPECIFIC` (SLR) or `UNIVERSAL` (PLR) once installed. */
  type: 'SPECIFIC' | 'UNIVERSAL' | null;
  /** The request code to take to the authority, while a request is pending. */
  requestCode: string | null;
  /** When the request code was made. */
  requestedAt: string | null;
  /** The installed reservation's id. */
  reservationId: string | null;
  /** The product instance the reservation belongs to. */
  instanceId: string | null;
  /** The installed authorization code's sequence number (updates raise it). */
  sequence: number | null;
  /** The reserved licenses by tag. */
  licenses: ReservedLicense[];
  /** When the reservation was installed. */
  installedAt: string | null;
  /** The last confirmation code answered to an update, to hand back to the authority. */
  lastConfirmationCode: { code: string; at: string } | null;
  /** The last return code, to hand back to the authority. */
  lastReturnCode: { code: string; at: string } | null;
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/** The reservation as the status shows it. */
export function reservationStatus(state: ReservationState): ReservationStatus {
  const installed = state.installed;
  return {
    status: installed ? 'INSTALLED' : state.request ? 'REQUEST PENDING' : state.enabled ? 'ENABLED' : 'NOT ENABLED',
    type: installed ? (installed.plr ? 'UNIVERSAL' : 'SPECIFIC') : null,
    requestCode: state.request?.code ?? null,
    requestedAt: iso(state.request?.createdAt),
    reservationId: installed?.reservationId ?? null,
    instanceId: installed?.instanceId ?? null,
    sequence: installed?.sequence ?? null,
    licenses: installed?.licenses ?? [],
    installedAt: iso(installed?.installedAt),
    lastConfirmationCode: state.lastConfirmationCode
      ? { code: state.lastConfirmationCode.code, at: new Date(state.lastConfirmationCode.at).toISOString() }
      : null,
    lastReturnCode: state.lastReturnCode
      ? { code: state.lastReturnCode.code, at: new Date(state.lastReturnCode.at).toISOString() }
      : null,
  };
}

/**
 * The status with the reservation applied: while one is installed the device is
 * `REGISTERED - SPECIFIC (or UNIVERSAL) LICENSE RESERVATION` and `AUTHORIZED - RESERVED`, with no
 * renewal, no communication deadline and no evaluation countdown; each tag the reservation covers
 * is `RESERVED`, one it does not cover `NOT AUTHORIZED` (every tag is covered by a PLR).
 */
export function applyReservation(status: AgentStatus, state: ReservationState): AgentStatus {
  const view = reservationStatus(state);
  if (!state.enabled && !state.installed && !state.lastReturnCode) return status;
  const installed = state.installed;
  if (!installed) return { ...status, reservation: view };
  const covered = new Map(installed.licenses.map((l) => [l.tag, l.count]));
  return {
    ...status,
    identity: { ...status.identity, instanceId: installed.instanceId },
    registration: {
      ...status.registration,
      status: 'REGISTERED',
      statusText: `REGISTERED - ${installed.plr ? 'UNIVERSAL' : 'SPECIFIC'} LICENSE RESERVATION`,
      initialRegistration: { result: 'SUCCEEDED', at: new Date(installed.installedAt).toISOString() },
      lastRenewalAttempt: null,
      nextRenewalAttempt: null,
      registrationExpires: null,
      nextRegistrationAttempt: null,
      failureReason: null,
    },
    authorization: {
      ...status.authorization,
      status: 'AUTHORIZED - RESERVED',
      since: new Date(installed.installedAt).toISOString(),
      nextCommunicationAttempt: null,
      communicationDeadline: null,
      failureReason: null,
    },
    evaluation: { ...status.evaluation, running: false },
    usage: status.usage.map((u) => ({
      ...u,
      status: installed.plr || (covered.get(u.tag) ?? 0) >= u.count ? 'RESERVED' : 'NOT AUTHORIZED',
    })),
    reservation: view,
  };
}

/** The "License Reservation:" block of `show license status` (empty when reservation was never enabled). */
export function formatReservation(status: AgentStatus): string | undefined {
  const r = status.reservation;
  if (!r) return undefined;
  const lines = [`Status: ${r.status}`];
  if (r.type) lines.push(`Type: ${r.type} LICENSE RESERVATION`);
  if (r.requestCode) lines.push(`Request Code: ${r.requestCode}`, `Requested: ${formatDate(r.requestedAt ?? '')}`);
  if (r.reservationId) lines.push(`Reservation ID: ${r.reservationId} (authorization ${r.sequence})`);
  if (r.installedAt) lines.push(`Installed: ${formatDate(r.installedAt)}`);
  for (const l of r.licenses) lines.push(`Reserved: ${l.tag} x ${l.count}`);
  if (r.lastConfirmationCode) {
    lines.push(`Last Confirmation Code: ${r.lastConfirmationCode.code} (${formatDate(r.lastConfirmationCode.at)})`);
  }
  if (r.lastReturnCode) lines.push(`Last Return Code: ${r.lastReturnCode.code} (${formatDate(r.lastReturnCode.at)})`);
  return ['License Reservation:', ...lines.map((l) => `  ${l}`)].join('\n');
}

/**
 * The enforcement snapshot with an installed reservation applied: `AUTHORIZED - RESERVED` (every
 * profile allows it), each tag licensed up to its reserved count (a PLR: up to what is declared).
 */
export function reservedSnapshot(
  base: () => LicenseSnapshot,
  reservation: () => ReservationState,
): () => LicenseSnapshot {
  return () => {
    const snapshot = base();
    const installed = reservation().installed;
    if (!installed) return snapshot;
    const reserved = new Map(installed.licenses.map((l) => [l.tag, l.count]));
    const licensed = new Map<string, number>();
    for (const [tag, count] of snapshot.licensed) {
      licensed.set(tag, installed.plr ? count : Math.min(count, reserved.get(tag) ?? 0));
    }
    for (const [tag, count] of installed.plr ? [] : reserved) if (!licensed.has(tag)) licensed.set(tag, count);
    return { ...snapshot, status: 'AUTHORIZED - RESERVED', exportControlled: false, licensed };
  };
}
