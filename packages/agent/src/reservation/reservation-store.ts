import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalBytes, SmartlicError } from '@smartlic/protocol/core';
import { writeFileAtomic } from '@smartlic/protocol/fs';
import type { DeviceKey } from '../device-key.js';
import { emptyReservation, type ReservationState } from './reservation-state.js';

/** The file name of the reservation state in the state directory. */
export const RESERVATION_FILE = 'reservation.json';

/**
 * The MAC key of `reservation.json`: HKDF-SHA256 of the device key's PKCS#8 bytes with its own
 * label (as `state.json`'s, but a different key), so the file cannot be edited or copied to another
 * device without that device's key.
 */
function macKeyOf(key: DeviceKey): Buffer {
  const pkcs8 = key.pair.privateKey.export({ type: 'pkcs8', format: 'der' });
  return Buffer.from(hkdfSync('sha256', pkcs8, 'smartlic-agent', 'smartlic reservation.json integrity v1', 32));
}

function macOf(state: ReservationState, key: DeviceKey): string {
  return createHmac('sha256', macKeyOf(key)).update(canonicalBytes(state)).digest('hex');
}

function corrupt(path: string, why: string): SmartlicError {
  return new SmartlicError('STATE_CORRUPT', {
    message: `The device reservation file ${path} is damaged or was edited (${why}); it was not loaded.`,
    context: { path },
  });
}

/** Reads `reservation.json` (an empty reservation when there is none); refuses a damaged or edited file. */
export async function loadReservation(dir: string, key: DeviceKey): Promise<ReservationState> {
  const path = join(dir, RESERVATION_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyReservation();
    throw error;
  }
  let parsed: { reservation?: ReservationState; deviceKey?: string; mac?: string };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    throw corrupt(path, 'not JSON');
  }
  const { reservation, mac, deviceKey } = parsed;
  if (!reservation || typeof mac !== 'string' || reservation.version !== 1) throw corrupt(path, 'unknown format');
  if (deviceKey !== key.fingerprint) throw corrupt(path, 'made with another device key');
  const expected = Buffer.from(macOf(reservation, key), 'hex');
  const given = Buffer.from(mac, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw corrupt(path, 'MAC mismatch');
  return reservation;
}

/** Writes `reservation.json` atomically (temp file, fsync, rename), MAC'd with the device key. */
export async function saveReservation(dir: string, key: DeviceKey, state: ReservationState): Promise<void> {
  const body = { reservation: state, deviceKey: key.fingerprint, mac: macOf(state, key) };
  await writeFileAtomic(join(dir, RESERVATION_FILE), `${JSON.stringify(body, null, 2)}\n`);
}
