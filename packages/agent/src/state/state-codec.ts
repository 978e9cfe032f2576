import {
  array as arr,
  boolean as bool,
  errorMessage,
  literal,
  number as num,
  object as obj,
  oneOf,
  optional as opt,
  ShapeError,
  SmartlicError,
  string,
} from '@smartlic/protocol/core';
import { type AgentState, STATE_VERSION } from './agent-state.js';
import { STATE_MAC_ALGORITHM, stateMac, verifyStateMac } from './state-mac.js';

const str = string();

const attempt = obj({ at: num, result: oneOf('SUCCEEDED', 'FAILED', 'PENDING') });
const failure = obj({ at: num, reason: str, code: opt(str) });
const compliance = oneOf('InCompliance', 'OutOfCompliance');

const registration = obj({
  status: oneOf('UNREGISTERED', 'REGISTERING', 'REGISTERED', 'REGISTRATION FAILED', 'REGISTRATION EXPIRED'),
  pending: opt(obj({ idToken: str, force: bool, firstAttemptAt: num, nextAttemptAt: num, maybeDelivered: opt(bool) })),
  certificate: opt(
    obj({
      instanceId: str,
      pem: str,
      serial: str,
      issuedAt: num,
      expiresAt: num,
      renewIntervalMs: num,
      signingCertPem: str,
      signingCertSerial: str,
    }),
  ),
  account: opt(
    obj({
      smartAccount: obj({ id: str, name: str, domain: str }),
      virtualAccount: obj({ id: str, name: str }),
      exportControlled: bool,
    }),
  ),
  initial: opt(attempt),
  lastRenewal: opt(attempt),
  nextRenewalAt: opt(num),
  failure: opt(failure),
});

const authorization = obj({
  grant: opt(
    obj({
      compliance,
      authorizedAt: num,
      receivedAt: num,
      expiresAt: num,
      renewIntervalMs: num,
      retryIntervalMs: num,
      entitlements: arr(obj({ tag: str, requested: num, status: compliance, displayName: opt(str) })),
      outOfComplianceSince: opt(num),
    }),
  ),
  expiredAt: opt(num),
  lastAttempt: opt(attempt),
  failure: opt(failure),
  failingSince: opt(num),
  nextAttemptAt: opt(num),
});

const agentState = obj({
  version: literal(STATE_VERSION),
  revision: num,
  createdAt: num,
  identity: obj({ pid: str, sn: str, hostname: opt(str), softwareTag: str, profile: str }),
  deviceKeyFingerprint: str,
  destination: opt(obj({ url: str, proxy: opt(str) })),
  trust: obj({ anchors: arr(str), pinnedFingerprint: opt(str), tlsTrustPoints: opt(arr(str)) }),
  usage: arr(obj({ tag: str, count: num })),
  registration,
  authorization,
  evaluation: obj({
    usedMs: num,
    runningSince: opt(num),
    startedAt: opt(num),
    expiredAt: opt(num),
    warnedDays: opt(num),
    reserved: opt(bool),
  }),
  clock: obj({ agentTime: num, wallTime: num }),
  integrity: obj({ alg: oneOf(STATE_MAC_ALGORITHM), mac: str }),
});

/** How to get going again after a state file was refused. */
export const STATE_RECOVERY_HINT =
  'Restore the file from a backup, or start over: remove this product instance on the authority ' +
  'and run `smartlic device init` with a new --state directory.';

/** A state file as read: the state and the MAC it carries. */
export interface StateFile {
  state: AgentState;
  mac: string;
}

/** Serialises a state for `state.json`, with its MAC (HMAC-SHA256 of the canonical state under `macKey`). */
export function encodeState(state: AgentState, macKey: Buffer): string {
  const integrity = { alg: STATE_MAC_ALGORITHM, mac: stateMac(state, macKey) };
  return `${JSON.stringify({ ...state, integrity }, null, 2)}\n`;
}

/**
 * Parses and checks the text of `state.json`. A truncated, edited or foreign file is
 * `STATE_CORRUPT`; a state is never silently reset. The MAC is checked by `verifyStateFile`
 * once the device key the state names is known.
 */
export function decodeState(text: string, file: string): StateFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw corrupt(file, 'it is not valid JSON (truncated?)', cause);
  }
  const version = (value as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && version > STATE_VERSION) {
    throw new SmartlicError('STATE_CORRUPT', {
      message: `The device state file ${file} was written by a newer smartlic (state version ${version}); upgrade this one.`,
      context: { file, version },
    });
  }
  if (version === 1) {
    throw corrupt(file, 'it is a version 1 file without an integrity check, which this smartlic does not accept');
  }
  try {
    agentState(value, '');
  } catch (cause) {
    if (!(cause instanceof ShapeError)) throw cause;
    throw corrupt(file, cause.message, cause);
  }
  const { integrity, ...state } = value as AgentState & { integrity: { mac: string } };
  return { state, mac: integrity.mac };
}

/** Refuses a state whose MAC does not match the device key it names: the file was edited or damaged. */
export function verifyStateFile(read: StateFile, macKey: Buffer, file: string): AgentState {
  if (!verifyStateMac(read.state, read.mac, macKey)) {
    throw corrupt(file, 'its integrity check (HMAC-SHA256 bound to the device key) failed');
  }
  return read.state;
}

function corrupt(file: string, detail: string, cause?: unknown): SmartlicError {
  const message = `${errorMessage('STATE_CORRUPT')} (${file}: ${detail}) ${STATE_RECOVERY_HINT}`;
  return new SmartlicError('STATE_CORRUPT', {
    message,
    context: { file, detail },
    ...(cause === undefined ? {} : { cause }),
  });
}
