import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { MAX_RESPONSE_BYTES, type Transport, TransportError, type TransportResponse } from './transport.js';

/** Options of the direct HTTP(S) transport. */
export interface HttpTransportOptions {
  /** The destination URL; request paths are appended to its path. */
  baseUrl: string;
  /** Extra trust anchors (PEM) for HTTPS, besides the platform's public roots. */
  ca?: readonly string[];
  timeoutMs: number;
  maxResponseBytes?: number;
  /** Skip TLS verification: only for fetching the root certificate on first use. */
  insecure?: boolean;
}

/** Error codes of a refused TLS peer certificate (OpenSSL verify errors and Node's TLS errors). */
const TLS_CODE =
  /^(CERT_|ERR_TLS_|ERR_SSL_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|INVALID_CA|PATH_LENGTH)/;

/** Direct JSON over node:http / node:https, with an overall timeout and a response size cap. */
export class HttpTransport implements Transport {
  constructor(private readonly options: HttpTransportOptions) {}

  /** POSTs `body` as JSON. */
  postJson(path: string, body: unknown): Promise<TransportResponse> {
    return this.request('POST', path, JSON.stringify(body));
  }

  /** GETs `path`. */
  get(path: string): Promise<TransportResponse> {
    return this.request('GET', path);
  }

  private request(method: 'GET' | 'POST', path: string, data?: string): Promise<TransportResponse> {
    const url = joinUrl(this.options.baseUrl, path);
    const secure = url.protocol === 'https:';
    const max = this.options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
    const headers: http.OutgoingHttpHeaders = { accept: 'application/json', 'user-agent': 'smartlic-agent' };
    if (data !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(data);
    }
    const tlsOptions = secure
      ? { ca: [...tls.rootCertificates, ...(this.options.ca ?? [])], rejectUnauthorized: !this.options.insecure }
      : {};
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (error: TransportError | undefined, response?: TransportResponse): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) {
          request.destroy();
          reject(error);
        } else if (response) resolve(response);
      };
      const request = (secure ? https : http).request(
        url,
        { method, headers, agent: false, ...tlsOptions },
        (response) => {
          if (Number(response.headers['content-length'] ?? 0) > max) {
            return finish(new TransportError('too-large', `The response is larger than ${max} bytes.`));
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
            const body = Buffer.concat(chunks).toString('utf8');
            finish(undefined, { status: response.statusCode ?? 0, ...(contentType ? { contentType } : {}), body });
          });
          response.on('error', (error) => finish(classify(error)));
          response.on('close', () => finish(new TransportError('unreachable', 'The connection closed mid-response.')));
        },
      );
      const timer = setTimeout(
        () => finish(new TransportError('timeout', `No answer within ${this.options.timeoutMs} ms.`)),
        this.options.timeoutMs,
      );
      request.on('error', (error) => finish(classify(error)));
      request.end(data);
    });
  }
}

/** Appends `path` to the path of `base` (`https://h/prefix` + `/api/x` → `https://h/prefix/api/x`). */
export function joinUrl(base: string, path: string): URL {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
  url.search = '';
  url.hash = '';
  return url;
}

function classify(error: Error): TransportError {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const kind = TLS_CODE.test(code) ? 'tls' : 'unreachable';
  return new TransportError(kind, `${code ? `${code}: ` : ''}${error.message}`, { cause: error });
}
