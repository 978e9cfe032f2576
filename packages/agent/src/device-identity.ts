import {
  type Check,
  checkAsciiText,
  checkHostname,
  checkIdentifier,
  HOSTNAME_RULE,
  IDENTIFIER_RULE,
  parseWith,
  SmartlicError,
} from '@smartlic/protocol/core';
import type { DeviceIdentity } from './state/agent-state.js';

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

/** Checks a field as the authority will (the protocol's rules), so that a device learns of bad input locally. */
function check(value: string | undefined, what: string, rule: Check<string>, described: string): void {
  if (value === undefined) return;
  if (!parseWith(rule, value).ok)
    throw new SmartlicError('BAD_REQUEST', { message: `The ${what} must be ${described}.` });
}

/** Completes a partial identity with the defaults and checks every field; bad input is `BAD_REQUEST`. */
export function completeIdentity(
  partial: Partial<DeviceIdentity> & { pid: string },
  random: () => number,
): DeviceIdentity {
  check(partial.pid, 'PID', checkIdentifier(64), `1–64 characters of ${IDENTIFIER_RULE}`);
  if (!partial.pid) throw new SmartlicError('BAD_REQUEST', { message: 'A PID is required.' });
  const identity: DeviceIdentity = {
    pid: partial.pid,
    sn: partial.sn ?? randomSerial(random),
    softwareTag: partial.softwareTag ?? defaultSoftwareTag(partial.pid),
    profile: partial.profile ?? DEFAULT_PROFILE,
    ...(partial.hostname === undefined ? {} : { hostname: partial.hostname }),
  };
  check(identity.sn, 'serial number', checkIdentifier(64), `1–64 characters of ${IDENTIFIER_RULE}`);
  check(identity.hostname, 'hostname', checkHostname, `${HOSTNAME_RULE}, at most 253 characters`);
  check(identity.softwareTag, 'software tag', checkIdentifier(256), `1–256 characters of ${IDENTIFIER_RULE}`);
  check(identity.profile, 'profile', checkAsciiText(1, 64), '1–64 printable characters');
  return identity;
}
