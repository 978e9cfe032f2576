import { createHash, type KeyObject } from 'node:crypto';
import { generateKeyPair, type KeyPair, keyPairFromPem, privateKeyToPem } from '@smartlic/protocol/core';

/** A device key pair with its PEM and fingerprint. */
export interface DeviceKey {
  pair: KeyPair;
  pem: string;
  /** SHA-256 (hex) of the public key's SPKI DER. */
  fingerprint: string;
}

/** SHA-256 (hex) of a public key's SPKI DER. */
export function publicKeyFingerprint(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/** A new ES256 device key. */
export function newDeviceKey(): DeviceKey {
  const pair = generateKeyPair('ES256');
  return { pair, pem: privateKeyToPem(pair.privateKey), fingerprint: publicKeyFingerprint(pair.publicKey) };
}

/** Reads a PKCS#8 PEM device key; throws on anything that is not one. */
export function deviceKeyFromPem(pem: string): DeviceKey {
  const pair = keyPairFromPem(pem);
  return { pair, pem, fingerprint: publicKeyFingerprint(pair.publicKey) };
}

/** True when two public keys are the same key. */
export function samePublicKey(a: KeyObject, b: KeyObject): boolean {
  return publicKeyFingerprint(a) === publicKeyFingerprint(b);
}

/** The subject of the device's CSRs, `CN=<pid>:<sn>`, with RFC 4514 special characters escaped. */
export function csrSubject(pid: string, sn: string): string {
  return `CN=${escapeDn(`${pid}:${sn}`)}`;
}

function escapeDn(value: string): string {
  return value.replace(/[,+="\\<>;#]/g, (c) => `\\${c}`).replace(/^ | $/g, (c) => `\\${c}`);
}
