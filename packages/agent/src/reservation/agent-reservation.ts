import { SmartlicError } from '@smartlic/protocol/core';
import type { AgentRuntime } from '../runtime.js';
import {
  cancelReservationRequest,
  type DeviceFacts,
  disableReservation,
  enableReservation,
  installReservation,
  type ReservationStep,
  requestReservation,
  returnAuthorization,
  returnReservation,
} from './reservation-book.js';
import type { ReservationState } from './reservation-state.js';
import { loadReservation, saveReservation } from './reservation-store.js';

/**
 * One `license smart reservation …` command. `authorityRootPem` (`--root`): the authority's root CA,
 * added to the anchors authorization codes must be signed under.
 */
export type ReservationAction =
  | { type: 'enable'; authorityRootPem?: string }
  | { type: 'disable' }
  | { type: 'request' }
  | { type: 'cancel' }
  | { type: 'install'; code: string; authorityRootPem?: string }
  | { type: 'return' }
  | { type: 'return-authorization'; code: string };

function facts(rt: AgentRuntime): DeviceFacts {
  const { identity, registration, trust } = rt.state;
  return {
    udi: { pid: identity.pid, sn: identity.sn },
    online: registration.certificate !== undefined || registration.pending !== undefined,
    anchors: trust.anchors,
    now: rt.readClock().now,
  };
}

function step(state: ReservationState, f: DeviceFacts, action: ReservationAction): ReservationStep {
  switch (action.type) {
    case 'enable':
      return enableReservation(state, f, action.authorityRootPem);
    case 'disable':
      return disableReservation(state);
    case 'request':
      return requestReservation(state, f);
    case 'cancel':
      return cancelReservationRequest(state);
    case 'install': {
      const trusted = action.authorityRootPem
        ? enableReservation(state, { ...f, online: false }, action.authorityRootPem).state
        : state;
      return installReservation({ ...trusted, enabled: state.enabled }, f, action.code);
    }
    case 'return':
      return returnReservation(state, f);
    case 'return-authorization':
      return returnAuthorization(state, f, action.code);
  }
}

/**
 * Runs a reservation command on the state saved in `reservation.json` (read afresh, so that
 * another process's change is seen) and saves the result atomically before answering.
 */
export async function runReservationAction(
  rt: AgentRuntime,
  action: ReservationAction,
): Promise<{ state: ReservationState; step: ReservationStep }> {
  const dir = rt.deps.store.dir;
  const current = await loadReservation(dir, rt.key);
  const result = step(current, facts(rt), action);
  if (result.state !== current) await saveReservation(dir, rt.key, result.state);
  return { state: result.state, step: result };
}

/** Reads the reservation state of the device (empty when reservation was never used). */
export function readReservation(rt: AgentRuntime): Promise<ReservationState> {
  return loadReservation(rt.deps.store.dir, rt.key);
}

/** Refuses online registration while reservation is enabled (SPEC §7: the device is offline by choice). */
export function assertNotReserving(state: ReservationState): void {
  if (state.enabled || state.installed) {
    throw new SmartlicError('RESERVATION_STATE', {
      message:
        'License reservation is enabled: return any reservation and disable reservation before registering online.',
    });
  }
}
