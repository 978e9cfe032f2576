import {
  type AuthorizationCode,
  confirmationCode,
  deriveReservationMacKey,
  encodeRequestCode,
  isReservableUdi,
  newRequestNonce,
  newReservationKeyPair,
  parseAuthorizationCode,
  returnCode,
  SmartlicError,
  type Udi,
  verifyAuthorizationCode,
} from '@smartlic/protocol/core';
import type { ReservationState } from './reservation-state.js';

/** What the reservation operations need to know about the device. */
export interface DeviceFacts {
  udi: Udi;
  /** The device is registered online (or registering): reservation cannot be enabled then. */
  online: boolean;
  /** The authority roots of the core state (PEM); never its TLS-only trust points. */
  anchors: readonly string[];
  now: number;
}

/** A change of the reservation state and what to tell the operator. */
export interface ReservationStep {
  /** The reservation state after the step. */
  state: ReservationState;
  /** What the step did, as the CLI prints it. */
  message: string;
  /** The code to hand over to the authority, if the step printed one. */
  code?: string;
}

function refuse(message: string): SmartlicError {
  return new SmartlicError('RESERVATION_STATE', { message });
}

function requireEnabled(state: ReservationState): void {
  if (!state.enabled) {
    throw refuse('License reservation is not enabled: run `license smart reservation enable` first.');
  }
}

/** `reservation enable`: allowed only while the device is not registered online. */
export function enableReservation(state: ReservationState, facts: DeviceFacts, rootPem?: string): ReservationStep {
  if (facts.online) {
    throw refuse(
      'The product is registered (or registering) online: deregister it before enabling license reservation.',
    );
  }
  const anchors = rootPem ? [...new Set([...state.trustAnchors, ...splitPem(rootPem)])] : state.trustAnchors;
  return {
    state: { ...state, enabled: true, trustAnchors: anchors },
    message: 'License reservation is enabled.',
  };
}

/** `reservation disable`: refused while a reservation is installed (return it first). */
export function disableReservation(state: ReservationState): ReservationStep {
  if (state.installed) throw refuse('A license reservation is installed: return it before disabling reservation.');
  const { request: _dropped, ...rest } = state;
  return { state: { ...rest, enabled: false }, message: 'License reservation is disabled.' };
}

/** `reservation request`: makes (or prints again) the request code. */
export function requestReservation(state: ReservationState, facts: DeviceFacts): ReservationStep {
  requireEnabled(state);
  if (state.installed) {
    throw refuse('A license reservation is already installed: the authority updates it (a new authorization code).');
  }
  if (state.request) {
    return { state, message: 'A reservation request is in progress; its request code:', code: state.request.code };
  }
  if (!isReservableUdi(facts.udi)) {
    throw refuse(`This UDI (PID:${facts.udi.pid} SN:${facts.udi.sn}) cannot be written in a request code.`);
  }
  const key = newReservationKeyPair();
  const nonce = newRequestNonce();
  const code = encodeRequestCode({ udi: facts.udi, nonce, devicePublicKey: key.publicKey });
  return {
    state: { ...state, request: { nonce, code, privateKeyPem: key.privateKeyPem, createdAt: facts.now } },
    message: 'Enter this request code in the authority (Virtual Account → License Reservation):',
    code,
  };
}

/** `reservation cancel`: forgets the request in progress. */
export function cancelReservationRequest(state: ReservationState): ReservationStep {
  if (!state.request) throw refuse('No reservation request is in progress.');
  const { request: _dropped, ...rest } = state;
  return { state: rest, message: 'The reservation request was cancelled.' };
}

/** Parses and verifies an authorization code for this device (checksum, signature, UDI). */
function readAuthorization(state: ReservationState, facts: DeviceFacts, text: string): AuthorizationCode {
  const code = parseAuthorizationCode(text);
  const anchors = [...facts.anchors, ...state.trustAnchors];
  if (anchors.length === 0) {
    throw refuse(
      'No trust point for the authority: import its root certificate with `license smart reservation enable --root ROOT-CA.pem` (or install with --root).',
    );
  }
  verifyAuthorizationCode(code, anchors, facts.now);
  const { pid, sn } = code.payload.udi;
  if (pid !== facts.udi.pid || sn !== facts.udi.sn) {
    throw new SmartlicError('RESERVATION_WRONG_DEVICE', { params: { udi: `PID:${pid} SN:${sn}` } });
  }
  return code;
}

/**
 * `reservation install CODE`: the first code of a reservation must answer the request in
 * progress; a later one (an update) must have a higher sequence and prints a confirmation code.
 */
export function installReservation(state: ReservationState, facts: DeviceFacts, text: string): ReservationStep {
  requireEnabled(state);
  const code = readAuthorization(state, facts, text);
  const p = code.payload;
  const installed = state.installed;
  if (state.usedCodes.includes(code.digest)) throw new SmartlicError('RESERVATION_ALREADY_INSTALLED');
  if (installed && installed.reservationId === p.reservationId && p.sequence <= installed.sequence) {
    throw new SmartlicError('RESERVATION_ALREADY_INSTALLED', {
      message: `This authorization code is already installed, or older than the one installed (${installed.sequence}).`,
    });
  }
  const usedCodes = [...state.usedCodes, code.digest].slice(-100);
  const fields = {
    reservationId: p.reservationId,
    instanceId: p.instanceId,
    sequence: p.sequence,
    plr: p.plr,
    licenses: p.licenses,
    issuedAt: p.issuedAt,
    installedAt: facts.now,
    requestNonce: p.requestNonce,
  };
  if (installed) {
    if (installed.reservationId !== p.reservationId) {
      throw refuse('This authorization code belongs to another reservation: return the installed one first.');
    }
    const macKey = Buffer.from(installed.macKey, 'base64url');
    const confirmation = confirmationCode(macKey, {
      reservationId: p.reservationId,
      sequence: p.sequence,
      udi: facts.udi,
    });
    return {
      state: {
        ...state,
        installed: { ...fields, macKey: installed.macKey },
        usedCodes,
        lastConfirmationCode: { code: confirmation, at: facts.now },
      },
      message:
        'Authorization code installed. Enter this confirmation code in the authority (Product Instance → Enter Confirmation Code):',
      code: confirmation,
    };
  }
  const request = state.request;
  if (!request || request.nonce !== p.requestNonce) {
    throw refuse(
      "This authorization code does not answer this device's reservation request (it was cancelled or replaced): make a new request code.",
    );
  }
  const macKey = deriveReservationMacKey(request.privateKeyPem, p.authorityKey, p.reservationId).toString('base64url');
  const { request: _answered, ...rest } = state;
  return {
    state: { ...rest, installed: { ...fields, macKey }, usedCodes },
    message: 'Authorization code installed: the licenses are reserved (AUTHORIZED - RESERVED).',
  };
}

/** `reservation return`: removes the installed reservation and prints the return code. */
export function returnReservation(state: ReservationState, facts: DeviceFacts): ReservationStep {
  const installed = state.installed;
  if (!installed) throw refuse('No license reservation is installed.');
  const code = returnCode(Buffer.from(installed.macKey, 'base64url'), 'return', {
    reservationId: installed.reservationId,
    sequence: installed.sequence,
    udi: facts.udi,
  });
  const { installed: _removed, request: _none, ...rest } = state;
  return {
    state: { ...rest, lastReturnCode: { code, at: facts.now } },
    message:
      'The license reservation was removed. Enter this return code in the authority (Product Instance → Remove):',
    code,
  };
}

/** `reservation return-authorization CODE`: a return code for an authorization code that was never installed. */
export function returnAuthorization(state: ReservationState, facts: DeviceFacts, text: string): ReservationStep {
  const code = readAuthorization(state, facts, text);
  const p = code.payload;
  const installed = state.installed;
  const subject = { reservationId: p.reservationId, sequence: p.sequence, udi: facts.udi };
  let macKey: Buffer;
  let next: ReservationState = state;
  if (installed?.reservationId === p.reservationId) {
    if (p.sequence <= installed.sequence) {
      throw refuse('This authorization code is installed: use `license smart reservation return`.');
    }
    macKey = Buffer.from(installed.macKey, 'base64url');
  } else {
    const request = state.request;
    if (!request || request.nonce !== p.requestNonce) {
      throw refuse("This authorization code does not answer this device's reservation request.");
    }
    macKey = deriveReservationMacKey(request.privateKeyPem, p.authorityKey, p.reservationId);
    const { request: _answered, ...rest } = state;
    next = rest;
  }
  const ret = returnCode(macKey, 'return-authorization', subject);
  return {
    state: {
      ...next,
      usedCodes: [...state.usedCodes, code.digest].slice(-100),
      lastReturnCode: { code: ret, at: facts.now },
    },
    message: 'Enter this return code in the authority (Product Instance → Remove) to release the authorization code:',
    code: ret,
  };
}

function splitPem(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.map((c) => `${c}\n`) ?? [];
}
