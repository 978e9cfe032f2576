import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { MAX_RESPONSE_BYTES, TransportError, type TransportResponse } from './transport.js';

/** One HTTP request, ready to go: which module sends it, and its options (URL parts, headers, TLS or socket). */
export interface PreparedRequest {
  secure: boolean;
  options: http.RequestOptions & https.RequestOptions;
  /** The connection already opened for it (a proxy tunnel), released if the request is abandoned. */
  socket?: Duplex;
}

/** Limits of one exchange. */
export interface SendLimits {
  /** Covers everything: proxy tunnel, TLS handshake, request and the whole answer. */
  timeoutMs: number;
  maxResponseBytes?: number;
}

/** Error codes of a refused TLS peer certificate (OpenSSL verify errors and Node's TLS errors). */
const TLS_CODE =
  /^(CERT_|ERR_TLS_|ERR_SSL_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|INVALID_CA|PATH_LENGTH)/;

/**
 * Sends one request and reads its answer. `prepare` does whatever must happen before the request
 * can be written (nothing for a direct request; the proxy tunnel and the TLS handshake through it
 * otherwise) and must release what it holds when `signal` aborts. One overall timeout covers all.
 */
export function sendRequest(
  prepare: (signal: AbortSignal) => Promise<PreparedRequest>,
  body: string | undefined,
  limits: SendLimits,
): Promise<TransportResponse> {
  const max = limits.maxResponseBytes ?? MAX_RESPONSE_BYTES;
  const abort = new AbortController();
  return new Promise((resolve, reject) => {
    let settled = false;
    let request: http.ClientRequest | undefined;
    const finish = (error: TransportError | undefined, response?: TransportResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        abort.abort();
        request?.destroy();
        reject(error);
      } else if (response) resolve(response);
    };
    const timer = setTimeout(
      () => finish(new TransportError('timeout', `No answer within ${limits.timeoutMs} ms.`)),
      limits.timeoutMs,
    );
    const onResponse = (response: http.IncomingMessage): void => {
      if (Number(response.headers['content-length'] ?? 0) > max) {
        finish(new TransportError('too-large', `The response is larger than ${max} bytes.`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > max) finish(new TransportError('too-large', `The response is larger than ${max} bytes.`));
        else chunks.push(chunk);
      });
      response.on('end', () => {
        const contentType = response.headers['content-type'];
        const retryAfter = response.headers['retry-after'];
        const text = Buffer.concat(chunks).toString('utf8');
        finish(undefined, {
          status: response.statusCode ?? 0,
          ...(contentType ? { contentType } : {}),
          ...(retryAfter ? { retryAfter } : {}),
          body: text,
        });
      });
      response.on('error', (error) => finish(classifySocketError(error)));
      response.on('close', () => finish(new TransportError('unreachable', 'The connection closed mid-response.')));
    };
    prepare(abort.signal).then(
      (prepared) => {
        if (settled) {
          prepared.socket?.destroy();
          return;
        }
        try {
          request = (prepared.secure ? https : http).request(prepared.options, onResponse);
        } catch (error) {
          return finish(classifySocketError(error as Error));
        }
        request.on('error', (error) => finish(classifySocketError(error)));
        request.end(body);
      },
      (error: unknown) => finish(error instanceof TransportError ? error : classifySocketError(error as Error)),
    );
  });
}

/** A socket-level error as a `TransportError`: a TLS refusal (`tls`) or no connection (`unreachable`). */
export function classifySocketError(error: Error, where?: string): TransportError {
  const code = (error as NodeJS.ErrnoException).code;
  const kind = code && TLS_CODE.test(code) ? 'tls' : 'unreachable';
  const message = where ? `${where}: ${error.message}` : error.message;
  return new TransportError(kind, message, { cause: error, ...(code ? { code } : {}) });
}

/** Appends `path` to the path of `base` (`https://h/prefix` + `/api/x` → `https://h/prefix/api/x`). */
export function joinUrl(base: string, path: string): URL {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
  url.search = '';
  url.hash = '';
  return url;
}

/** The headers of a JSON request with `data` as its body (none for a GET). */
export function jsonHeaders(data: string | undefined): http.OutgoingHttpHeaders {
  const headers: http.OutgoingHttpHeaders = { accept: 'application/json', 'user-agent': 'smartlic-agent' };
  if (data !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(data);
  }
  return headers;
}
