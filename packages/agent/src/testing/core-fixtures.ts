import { type AuthorizeResponse, DAY, type RegisterResponse } from '@smartlic/protocol';
import { type Input, transition } from '../core/transition.js';
import { type AgentState, initialState } from '../state/agent-state.js';

/** The start of every core test's timeline. */
export const T0 = Date.UTC(2026, 0, 1);

/** A device just initialised at {@link T0}. */
export function freshState(): AgentState {
  return initialState({ pid: 'P', sn: 'S', softwareTag: 't', profile: 'catalyst' }, 'fp', T0);
}

/** Runs inputs in order, each at its time, with jitter draw `u`. */
export function runInputs(state: AgentState, steps: [Input, number][], u = 0): AgentState {
  return steps.reduce((s, [input, at]) => transition(s, input, at, u).state, state);
}

/** A registration answer issued at `at` with the default intervals. */
export function registerResponse(at: number): RegisterResponse {
  return {
    type: 'register-response',
    version: 1,
    timestamp: at,
    nonce: 'n'.repeat(22),
    instanceId: '6f1c2f4e-8d0a-4d8e-9a55-2b1c3d4e5f60',
    idCertificate: '-----BEGIN CERTIFICATE-----',
    idCertSerial: 'ab',
    idCertExpiresAt: at + 360 * DAY,
    renewIntervalMs: 180 * DAY,
    signingCertificate: '-----BEGIN CERTIFICATE-----',
    signingCertSerial: 'cd',
    smartAccount: { id: 'sa', name: 'SA', domain: 'example.com' },
    virtualAccount: { id: 'va', name: 'VA' },
    exportControlled: false,
  };
}

/** An authorization answer for one of tag `A` issued at `at`. */
export function authorizeResponse(
  at: number,
  status: 'InCompliance' | 'OutOfCompliance',
  retryIntervalMs: number,
): AuthorizeResponse {
  return {
    type: 'authorize-response',
    version: 1,
    timestamp: at,
    nonce: 'n'.repeat(22),
    instanceId: '6f1c2f4e-8d0a-4d8e-9a55-2b1c3d4e5f60',
    status,
    entitlements: [{ tag: 'A', requested: 1, status }],
    authorizedAt: at,
    expiresAt: at + 90 * DAY,
    renewIntervalMs: 30 * DAY,
    retryIntervalMs,
  };
}

/** A device using one of `A`, registered at `at`. */
export function registeredState(at: number, u = 0): AgentState {
  return runInputs(
    freshState(),
    [
      [{ type: 'usage-set', tag: 'A', count: 1 }, at],
      [{ type: 'register-requested', idToken: 'tok', force: false }, at],
      [{ type: 'register-succeeded', response: registerResponse(at) }, at],
    ],
    u,
  );
}

/** {@link registeredState}, then authorized at `at` with `status` and the server's retry interval. */
export function authorizedState(
  at: number,
  status: 'InCompliance' | 'OutOfCompliance',
  retryIntervalMs: number,
  u = 0,
): AgentState {
  const input: Input = {
    type: 'authorize-succeeded',
    response: authorizeResponse(at, status, retryIntervalMs),
    requested: [{ tag: 'A', count: 1 }],
  };
  return transition(registeredState(at, u), input, at, u).state;
}
