import { readFileSync } from 'node:fs';

/** A protocol test vector file (`packages/protocol/vectors/<name>.json`). */
export function loadVectors<T>(name: 'messages' | 'signatures' | 'canonical'): T[] {
  return JSON.parse(readFileSync(new URL(`../../../protocol/vectors/${name}.json`, import.meta.url), 'utf8')) as T[];
}

export interface MessageVector {
  name: string;
  type: 'register' | 'authorize' | 'renew-id' | 'deregister';
  message: Record<string, unknown>;
  valid: boolean;
}

export interface SignatureVector {
  name: string;
  publicKeyPem: string;
  envelope: {
    payload: Record<string, unknown>;
    signature: { alg: 'ES256' | 'Ed25519'; certSerial: string; value: string };
  };
  valid: boolean;
}
