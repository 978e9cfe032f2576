import { errorMessage, SmartlicError } from '@smartlic/protocol';
import { type AgentState, STATE_VERSION } from './agent-state.js';
import { arr, bool, type Check, num, obj, oneOf, opt, ShapeError, str } from './shape-check.js';

const attempt = obj({ at: num, result: oneOf('SUCCEEDED', 'FAILED', 'PENDING') });
const failure = obj({ at: num, reason: str, code: opt(str) });
const compliance = oneOf('InCompliance', 'OutOfCompliance');

const registration = obj({
  status: oneOf('UNREGISTERED', 'REGISTERING', 'REGISTERED', 'REGISTRATION FAILED', 'REGISTRATION EXPIRED'),
  pending: opt(obj({ idToken: str, force: bool, firstAttemptAt: num, nextAttemptAt: num })),
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
    }),
  ),
  expiredAt: opt(num),
  lastAttempt: opt(attempt),
  failure: opt(failure),
  failingSince: opt(num),
  nextAttemptAt: opt(num),
});

const agentState: Check = obj({
  version: oneOf(STATE_VERSION),
  revision: num,
  createdAt: num,
  identity: obj({ pid: str, sn: str, hostname: opt(str), softwareTag: str, profile: str }),
  deviceKeyFingerprint: str,
  destination: opt(obj({ url: str, proxy: opt(str) })),
  trust: obj({ anchors: arr(str), pinnedFingerprint: opt(str) }),
  usage: arr(obj({ tag: str, count: num })),
  registration,
  authorization,
  evaluation: obj({ usedMs: num, runningSince: opt(num), startedAt: opt(num), expiredAt: opt(num) }),
});

/** Serialises a state for `state.json`. */
export function encodeState(state: AgentState): string {
  return `${JSON.stringify(state, null, 2)}\n`;
}

/**
 * Parses and checks the text of `state.json`. A truncated, edited or foreign file is
 * `STATE_CORRUPT`; a state is never silently reset.
 */
export function decodeState(text: string, file: string): AgentState {
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
  try {
    agentState(value, '');
  } catch (cause) {
    if (!(cause instanceof ShapeError)) throw cause;
    throw corrupt(file, cause.message, cause);
  }
  return value as AgentState;
}

function corrupt(file: string, detail: string, cause: unknown): SmartlicError {
  const message = `${errorMessage('STATE_CORRUPT')} (${file}: ${detail})`;
  return new SmartlicError('STATE_CORRUPT', { message, context: { file, detail }, cause });
}
