import {
  checkErrorBody,
  DAY,
  type ErrorBody,
  errorMessage,
  isErrorCode,
  parseWith,
  SmartlicError,
} from '@smartlic/protocol/core';
import { type Failure, failureOf, SIGNATURE_MISMATCH_REASON } from '../core/failure.js';
import type { TransportResponse } from '../transport/transport.js';
import { TransportError } from '../transport/transport.js';

/**
 * A message that got no usable answer: no transport, no connection (to the authority or the
 * proxy), timeout, TLS refusal ("SSL certificate problem: …", as curl words it), a proxy that
 * refused the tunnel or its credentials, oversize.
 */
export function transportFailure(error: unknown): Failure {
  if (!(error instanceof TransportError)) {
    const detail = error instanceof Error ? error.message : String(error);
    return failureOf('SEND_FAILED', { retryable: true, transport: true, detail });
  }
  const detail = error.code && !error.message.includes(error.code) ? `${error.code}: ${error.message}` : error.message;
  switch (error.kind) {
    case 'unavailable':
      return failureOf('TRANSPORT_NOT_AVAILABLE', { transport: true, detail });
    case 'tls':
      return failureOf('SEND_FAILED', {
        reason: `SSL certificate problem: ${error.message}`,
        retryable: true,
        transport: true,
        detail,
      });
    case 'proxy':
    case 'proxy-auth':
      return failureOf('SEND_FAILED', { reason: error.message, retryable: true, transport: true, detail });
    case 'too-large':
      return failureOf('BODY_TOO_LARGE', {
        reason: 'The response from the licensing authority is too large.',
        retryable: true,
        detail,
      });
    default:
      return failureOf('SEND_FAILED', { retryable: true, transport: true, detail });
  }
}

/** An HTTP error answer: its `message` is the reason the operator sees (e.g. "Product Already Registered"). */
export function httpFailure(response: TransportResponse): Failure {
  let body: ErrorBody | undefined;
  try {
    const parsed = parseWith(checkErrorBody, JSON.parse(response.body));
    if (parsed.ok) body = parsed.value;
  } catch {
    body = undefined;
  }
  const code = isErrorCode(body?.code) ? body.code : undefined;
  const serverSide = response.status >= 500 || response.status === 429;
  const fallback = serverSide
    ? errorMessage('SERVER_BUSY')
    : `The licensing authority refused the request (HTTP ${response.status}).`;
  return {
    reason: body?.message || fallback,
    ...(code ? { code } : serverSide ? { code: 'SERVER_BUSY' as const } : {}),
    retryable: serverSide || (code !== undefined && new SmartlicError(code).retryable),
    transport: false,
    detail: `HTTP ${response.status}${body?.requestId ? `, request ${body.requestId}` : ''}`,
    ...(serverSide ? retryAfterOf(response.retryAfter) : {}),
  };
}

/** Longest wait taken from a `Retry-After`, so that a broken header cannot park the agent for good. */
export const MAX_RETRY_AFTER_MS = DAY;

/**
 * `Retry-After` in delay-seconds (what smartlic sends) as `{retryAfterMs}`, at most a day; an
 * HTTP-date, or anything else, is ignored (the agent's own retry schedule applies).
 */
export function retryAfterOf(header: string | undefined): { retryAfterMs?: number } {
  if (header === undefined || !/^\s*\d{1,10}\s*$/.test(header)) return {};
  return { retryAfterMs: Math.min(Number(header) * 1000, MAX_RETRY_AFTER_MS) };
}

/** A response that failed verification: "Data and signature do not match" (seed 003 scenario 9). */
export function mismatchFailure(problem: string): Failure {
  return failureOf('SIGNATURE_MISMATCH', { reason: SIGNATURE_MISMATCH_REASON, detail: problem });
}
