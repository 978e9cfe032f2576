import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalBytes, SmartlicError } from '@smartlic/protocol/core';
import { writeFileAtomic } from '@smartlic/protocol/fs';
import type { DeviceKey } from '../device-key.js';
import type { PolicyState } from './policy-state.js';

/** The file name of the policy-model state in the state directory. */
export const POLICY_FILE = 'policy.json';

function macKeyOf(key: DeviceKey): Buffer {
  const pkcs8 = key.pair.privateKey.export({ type: 'pkcs8', format: 'der' });
  return Buffer.from(hkdfSync('sha256', pkcs8, 'smartlic-agent', 'smartlic policy.json integrity v1', 32));
}

function macOf(state: PolicyState, key: DeviceKey): string {
  return createHmac('sha256', macKeyOf(key)).update(canonicalBytes(state)).digest('hex');
}

function corrupt(path: string, why: string): SmartlicError {
  return new SmartlicError('STATE_CORRUPT', {
    message: `The device policy file ${path} is damaged or was edited (${why}); it was not loaded.`,
    context: { path },
  });
}

/**
 * Reads `policy.json`: undefined when the device runs the registration model (no file); refuses a
 * damaged or edited file (it is MAC'd under a key derived from the device key, like `state.json`).
 */
export async function loadPolicyState(dir: string, key: DeviceKey): Promise<PolicyState | undefined> {
  const path = join(dir, POLICY_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let parsed: { policy?: PolicyState; deviceKey?: string; mac?: string };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    throw corrupt(path, 'not JSON');
  }
  const { policy, mac, deviceKey } = parsed;
  if (!policy || typeof mac !== 'string' || policy.version !== 1) throw corrupt(path, 'unknown format');
  if (deviceKey !== key.fingerprint) throw corrupt(path, 'made with another device key');
  const expected = Buffer.from(macOf(policy, key), 'hex');
  const given = Buffer.from(mac, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw corrupt(path, 'MAC mismatch');
  return policy;
}

/** Writes `policy.json` atomically (temp file, fsync, rename), MAC'd with the device key. */
export async function savePolicyState(dir: string, key: DeviceKey, state: PolicyState): Promise<void> {
  const body = { policy: state, deviceKey: key.fingerprint, mac: macOf(state, key) };
  await writeFileAtomic(join(dir, POLICY_FILE), `${JSON.stringify(body)}\n`);
}
