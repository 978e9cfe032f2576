import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Test support only: not compiled into `dist/`, never part of an entry point (the agent's
// runtime does no I/O of its own). The protocol's tests import it by path.

/**
 * The folder of the shared JSON test vectors that the agent's and the server's tests both run:
 * `packages/protocol/vectors/`, found from `src/`, `dist/` or the bundle in `dist/bundle/`.
 */
export const VECTORS_DIR = fileURLToPath(
  new URL(import.meta.url.includes('/dist/bundle/') ? '../../vectors/' : '../vectors/', import.meta.url),
);

/** A canonical-form vector: `input` must canonicalize to exactly `canonical`. */
export interface CanonicalVector {
  name: string;
  input: unknown;
  canonical: string;
}

/** A signature vector: `envelope` must verify against `publicKeyPem` exactly when `valid`. */
export interface SignatureVector {
  name: string;
  publicKeyPem: string;
  envelope: {
    payload: Record<string, unknown>;
    signature: { alg: 'ES256' | 'Ed25519'; certSerial: string; value: string };
  };
  valid: boolean;
}

/** A message vector: `message` is a request payload of `type` that its schema must accept exactly when `valid`. */
export interface MessageVector {
  name: string;
  type: 'register' | 'authorize' | 'renew-id' | 'deregister' | 'convert';
  message: Record<string, unknown>;
  valid: boolean;
}

function load<T>(name: string): T[] {
  return JSON.parse(readFileSync(`${VECTORS_DIR}${name}`, 'utf8')) as T[];
}

/** Loads every vector file. */
export function loadVectors(): {
  canonical: CanonicalVector[];
  signatures: SignatureVector[];
  messages: MessageVector[];
} {
  return {
    canonical: load<CanonicalVector>('canonical.json'),
    signatures: load<SignatureVector>('signatures.json'),
    messages: load<MessageVector>('messages.json'),
  };
}

/** The kinds of policy-model vectors: messages and the two offline files. */
export type PolicyVectorType =
  | 'trust'
  | 'usage'
  | 'slac'
  | 'slac-return'
  | 'rum-report'
  | 'ack'
  | 'usage-file'
  | 'ack-file';

/** The policy-model vectors (`vectors/policy.json`): signed reports and ACKs, messages and files. */
export interface PolicyVectors {
  signatures: SignatureVector[];
  messages: Array<{ name: string; type: PolicyVectorType; message: Record<string, unknown>; valid: boolean }>;
}

/** Loads `vectors/policy.json`. */
export function loadPolicyVectors(): PolicyVectors {
  return JSON.parse(readFileSync(`${VECTORS_DIR}policy.json`, 'utf8')) as PolicyVectors;
}
