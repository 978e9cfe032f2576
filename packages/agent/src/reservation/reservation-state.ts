import type { ReservedLicense } from '@smartlic/protocol/core';

/** A request code made on the device and not yet answered (or cancelled). */
export interface PendingRequest {
  /** The request nonce (base64url, 9 bytes) the authorization code must echo. */
  nonce: string;
  /** The request code as printed. */
  code: string;
  /** The X25519 reservation key (PKCS#8 PEM); never leaves the device. */
  privateKeyPem: string;
  createdAt: number;
}

/** The reservation installed from an authorization code. */
export interface InstalledReservation {
  reservationId: string;
  instanceId: string;
  sequence: number;
  plr: boolean;
  licenses: ReservedLicense[];
  issuedAt: number;
  installedAt: number;
  /** The reservation's MAC key (base64url), derived at the first install. */
  macKey: string;
  /** The request nonce of the reservation. */
  requestNonce: string;
}

/** A code the device printed to hand over, and when. */
export interface PrintedCode {
  code: string;
  at: number;
}

/**
 * The reservation state persisted in `reservation.json`, beside (not inside) `state.json`, so that
 * the core state machine does not need to know about offline reservation.
 */
export interface ReservationState {
  version: 1;
  /** `license smart reservation enable` was run (and not disabled). */
  enabled: boolean;
  request?: PendingRequest;
  installed?: InstalledReservation;
  /** Extra authority roots (PEM) for authorization codes, imported with `--root`. */
  trustAnchors: string[];
  lastConfirmationCode?: PrintedCode;
  lastReturnCode?: PrintedCode;
  /** SHA-256 of every authorization code installed or returned (a code is used once). */
  usedCodes: string[];
}

/** The state of a device that never enabled reservation. */
export function emptyReservation(): ReservationState {
  return { version: 1, enabled: false, trustAnchors: [], usedCodes: [] };
}
