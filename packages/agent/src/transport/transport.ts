/** Most bytes of a response the agent reads; a larger one is refused. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

/** An HTTP answer as the agent needs it. */
export interface TransportResponse {
  status: number;
  contentType?: string;
  /** The `Retry-After` header, as sent (a 429 or 503 says how long to wait). */
  retryAfter?: string;
  body: string;
}

/**
 * How messages reach the authority: direct HTTP(S) (`HttpTransport`) or through an HTTP(S)
 * proxy (`ProxyTransport`, HTTP CONNECT). A satellite is just another destination URL.
 */
export interface Transport {
  /** POSTs `body` as JSON to `path` (relative to the destination URL). */
  postJson(path: string, body: unknown): Promise<TransportResponse>;
  /** GETs `path` (relative to the destination URL). */
  get(path: string): Promise<TransportResponse>;
}

/**
 * Why a message got no HTTP answer: no transport, no connection (to the authority or the
 * proxy), no answer in time, a TLS peer the trust anchors do not vouch for, an oversized
 * answer, or a proxy that refused the tunnel (`proxy`; `proxy-auth` for its credentials).
 */
export type TransportErrorKind =
  | 'unavailable'
  | 'unreachable'
  | 'timeout'
  | 'tls'
  | 'too-large'
  | 'proxy'
  | 'proxy-auth';

/** A message that got no usable HTTP answer. `code` is the system or OpenSSL code, when there is one. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  /** `ECONNREFUSED`, `SELF_SIGNED_CERT_IN_CHAIN`, … */
  readonly code: string | undefined;
  constructor(
    readonly kind: TransportErrorKind,
    message: string,
    options?: { cause?: unknown; code?: string },
  ) {
    super(message, options);
    this.code = options?.code;
  }
}
