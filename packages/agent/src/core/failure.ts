import { type ErrorCode, errorMessage } from '@smartlic/protocol/core';

/** Why an exchange with the authority failed, classified for the state machine. */
export interface Failure {
  /** The operator-facing reason ("Failure reason: …" in the status). */
  reason: string;
  code?: ErrorCode;
  /** True when trying again later can succeed without anyone acting (5xx, network). */
  retryable: boolean;
  /** True when the message never got a usable answer from the authority (no transport, network). */
  transport: boolean;
  /** Technical detail for events, never shown as the reason. */
  detail?: string;
  /** How long the authority asked to wait before the next attempt (`Retry-After` of a 429 or 503). */
  retryAfterMs?: number;
}

/** A failure carrying `code`'s standard message. */
export function failureOf(code: ErrorCode, options: Partial<Omit<Failure, 'code'>> = {}): Failure {
  return {
    reason: options.reason ?? errorMessage(code),
    code,
    retryable: options.retryable ?? false,
    transport: options.transport ?? false,
    ...(options.detail === undefined ? {} : { detail: options.detail }),
  };
}

/** The reason recorded when a response fails verification (seed 003 scenario 9). */
export const SIGNATURE_MISMATCH_REASON = 'Data and signature do not match';

/**
 * Whether the authority refused a message of a registered device because it no longer recognises
 * the device's certificates ("Missing ID Cert Serial Number Field; …", seed 003 scenario 6): its
 * signing certificate was replaced, or the device's ID certificate superseded. Trying again cannot
 * help; the device must register again.
 */
export function rejectsIdentity(failure: Failure): boolean {
  return failure.code === 'MISSING_SERIALS';
}

/** The persisted "Failure reason" record of `failure` at `at`. */
export function failureRecord(failure: Failure, at: number): { at: number; reason: string; code?: string } {
  return { at, reason: failure.reason, ...(failure.code ? { code: failure.code } : {}) };
}

/** The reason with its technical detail, for event messages: `reason (detail)`. */
export function describeFailure(failure: Failure): string {
  return failure.detail && failure.detail !== failure.reason ? `${failure.reason} (${failure.detail})` : failure.reason;
}
