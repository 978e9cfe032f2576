import { SmartlicError } from '@smartlic/protocol/core';
import type { DeviceIdentity } from './state/agent-state.js';

const PRINTABLE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;
const SERIAL_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';

/** The default enforcement profile. */
export const DEFAULT_PROFILE = 'catalyst';

/** The default software tag of a product: `regid.2026-01.org.smartlic.<pid>`. */
export function defaultSoftwareTag(pid: string): string {
  return `regid.2026-01.org.smartlic.${pid}`;
}

/** A random serial number such as `SL7Q2K9DX4M`, drawn from `random`. */
export function randomSerial(random: () => number): string {
  let sn = 'SL';
  for (let i = 0; i < 9; i++) sn += SERIAL_ALPHABET[Math.floor(random() * SERIAL_ALPHABET.length)] ?? 'X';
  return sn;
}

function check(value: string | undefined, what: string, max: number): void {
  if (value === undefined) return;
  if (typeof value !== 'string' || value.length > max || !PRINTABLE.test(value)) {
    throw new SmartlicError('BAD_REQUEST', { message: `The ${what} must be 1–${max} printable characters.` });
  }
}

/** Completes a partial identity with the defaults and checks every field; bad input is `BAD_REQUEST`. */
export function completeIdentity(
  partial: Partial<DeviceIdentity> & { pid: string },
  random: () => number,
): DeviceIdentity {
  check(partial.pid, 'PID', 64);
  if (!partial.pid) throw new SmartlicError('BAD_REQUEST', { message: 'A PID is required.' });
  const identity: DeviceIdentity = {
    pid: partial.pid,
    sn: partial.sn ?? randomSerial(random),
    softwareTag: partial.softwareTag ?? defaultSoftwareTag(partial.pid),
    profile: partial.profile ?? DEFAULT_PROFILE,
    ...(partial.hostname === undefined ? {} : { hostname: partial.hostname }),
  };
  check(identity.sn, 'serial number', 64);
  check(identity.hostname, 'hostname', 255);
  check(identity.softwareTag, 'software tag', 256);
  check(identity.profile, 'profile', 64);
  return identity;
}
