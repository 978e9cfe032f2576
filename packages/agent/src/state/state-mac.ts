import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { canonicalBytes } from '@smartlic/protocol/core';
import type { DeviceKey } from '../device-key.js';

/** The MAC algorithm named in `state.json`. */
export const STATE_MAC_ALGORITHM = 'HMAC-SHA256';

const HKDF_SALT = Buffer.from('smartlic-agent', 'utf8');
const HKDF_INFO = Buffer.from('smartlic state.json integrity v1', 'utf8');

/**
 * The key that MACs a state naming `key`: HKDF-SHA256 of the device key's PKCS#8 bytes with a
 * fixed label, so the state file is bound to the device key beside it and a copy of the file
 * cannot be edited into shape without that key.
 */
export function stateMacKey(key: DeviceKey): Buffer {
  const pkcs8 = key.pair.privateKey.export({ type: 'pkcs8', format: 'der' });
  return Buffer.from(hkdfSync('sha256', pkcs8, HKDF_SALT, HKDF_INFO, 32));
}

/** HMAC-SHA256 (hex) of the canonical bytes of `value`. */
export function stateMac(value: unknown, macKey: Buffer): string {
  return createHmac('sha256', macKey).update(canonicalBytes(value)).digest('hex');
}

/** True when `mac` is the MAC of `value` under `macKey` (constant-time comparison). */
export function verifyStateMac(value: unknown, mac: string, macKey: Buffer): boolean {
  const expected = Buffer.from(stateMac(value, macKey), 'hex');
  const given = Buffer.from(mac, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
