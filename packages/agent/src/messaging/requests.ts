import { PROTOCOL_VERSION } from '@smartlic/protocol/core';
import type { AgentState, IdCertificate } from '../state/agent-state.js';
import type { RequestPayloads } from './schemas.js';

/** Freshness fields of every message: protocol version, device time, nonce. */
function fresh(now: number, nonce: string) {
  return { version: PROTOCOL_VERSION, timestamp: now, nonce } as const;
}

/** Identification fields of every message after registration. */
function identified(cert: IdCertificate, now: number, nonce: string) {
  return {
    ...fresh(now, nonce),
    instanceId: cert.instanceId,
    idCertSerial: cert.serial,
    signingCertSerial: cert.signingCertSerial,
  };
}

/** SPEC §4.1 registration request. */
export function registerRequest(
  state: AgentState,
  args: { idToken: string; force: boolean; csr: string; now: number; nonce: string },
): RequestPayloads['register'] {
  const { identity } = state;
  return {
    type: 'register',
    ...fresh(args.now, args.nonce),
    idToken: args.idToken,
    softwareTag: identity.softwareTag,
    udi: { pid: identity.pid, sn: identity.sn },
    ...(identity.hostname ? { hostname: identity.hostname } : {}),
    csr: args.csr,
    force: args.force,
  };
}

/** SPEC §4.2 authorization request with the usage declared now (tags with a count above 0). */
export function authorizeRequest(
  state: AgentState,
  cert: IdCertificate,
  now: number,
  nonce: string,
): RequestPayloads['authorize'] {
  return {
    type: 'authorize',
    ...identified(cert, now, nonce),
    entitlements: state.usage.map((u) => ({ tag: u.tag, count: u.count })),
  };
}

/** SPEC §4.3 ID certificate renewal with a CSR for the next device key. */
export function renewIdRequest(
  cert: IdCertificate,
  csr: string,
  now: number,
  nonce: string,
): RequestPayloads['renew-id'] {
  return { type: 'renew-id', ...identified(cert, now, nonce), csr };
}

/** SPEC §4.4 deregistration. */
export function deregisterRequest(cert: IdCertificate, now: number, nonce: string): RequestPayloads['deregister'] {
  return { type: 'deregister', ...identified(cert, now, nonce) };
}
