import type { KeyObject } from 'node:crypto';
import { signEnvelope } from '@smartlic/protocol/core';
import { type Failure, failureOf } from '../core/failure.js';
import type { Destination } from '../state/agent-state.js';
import { createTransport } from '../transport/create-transport.js';
import type { Transport } from '../transport/transport.js';
import { httpFailure, mismatchFailure, transportFailure } from './classify-failure.js';
import { type MessageKind, parseRequest, type RequestPayloads, type ResponsePayloads, ROUTE_OF } from './schemas.js';
import { type ResponseExpectation, verifyResponse } from './verify-response.js';

/** Where and how to send. */
export interface ExchangeSettings {
  destination?: Destination;
  /** The authority roots (PEM): the response's signing certificate must chain to one; trusted for TLS too. */
  anchors: readonly string[];
  /** Extra TLS trust points (PEM), e.g. a proxy's CA: for the HTTPS connection only, never for the response. */
  tlsTrustPoints?: readonly string[];
  timeoutMs: number;
  /** Agent clock, read when the response is verified. */
  now: () => number;
  /** Overrides the transport the destination calls for. */
  transport?: Transport;
}

/** One signed request and what its response must match. */
export interface ExchangeRequest<K extends MessageKind> {
  kind: K;
  payload: RequestPayloads[K];
  signingKey: KeyObject;
  /** `csr` for registration, else the ID certificate serial. */
  certSerial: string;
  expect?: Pick<ResponseExpectation, 'signingCertPem' | 'instanceId' | 'certifiedKey'>;
}

/** A verified response payload, or the classified failure. */
export type ExchangeResult<K extends MessageKind> =
  | { ok: true; payload: ResponsePayloads[K]; renewedSigner?: { pem: string; serial: string } }
  | { ok: false; failure: Failure };

/**
 * Posts a signed envelope to `route` of the destination and reads the answer as JSON. Never throws:
 * a network failure, an HTTP error or a body that is not JSON comes back as a `Failure`.
 */
export async function postEnvelope(
  settings: ExchangeSettings,
  destination: Destination,
  route: string,
  envelope: unknown,
): Promise<{ ok: true; body: unknown } | { ok: false; failure: Failure }> {
  const transport = settings.transport ?? createTransport(destination, settings);
  let response: Awaited<ReturnType<Transport['postJson']>>;
  try {
    response = await transport.postJson(route, envelope);
  } catch (error) {
    return { ok: false, failure: transportFailure(error) };
  }
  if (response.status < 200 || response.status > 299) return { ok: false, failure: httpFailure(response) };
  try {
    return { ok: true, body: JSON.parse(response.body) };
  } catch {
    return { ok: false, failure: mismatchFailure('the response is not JSON') };
  }
}

/**
 * Signs a device message, posts it, and verifies the answer. Never throws: no transport, network
 * failures, HTTP errors and responses failing verification all come back as a `Failure`.
 */
export async function exchange<K extends MessageKind>(
  request: ExchangeRequest<K>,
  settings: ExchangeSettings,
): Promise<ExchangeResult<K>> {
  const fail = (failure: Failure): ExchangeResult<K> => ({ ok: false, failure });
  if (!settings.destination) return fail(failureOf('TRANSPORT_NOT_AVAILABLE', { transport: true }));
  const checked = parseRequest(request.kind, request.payload);
  if (!checked.ok) {
    return fail(failureOf('BAD_REQUEST', { reason: `The ${request.kind} request is not valid: ${checked.problem}` }));
  }
  const envelope = signEnvelope(request.payload, request.signingKey, request.certSerial);
  const posted = await postEnvelope(settings, settings.destination, ROUTE_OF[request.kind], envelope);
  if (!posted.ok) return posted;
  const body = posted.body;
  const verified = verifyResponse(request.kind, body, {
    ...request.expect,
    nonce: request.payload.nonce,
    anchors: settings.anchors,
    now: settings.now(),
  });
  if (!verified.ok) return fail(mismatchFailure(verified.problem));
  return {
    ok: true,
    payload: verified.payload,
    ...(verified.renewedSigner ? { renewedSigner: verified.renewedSigner } : {}),
  };
}
