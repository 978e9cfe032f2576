import { joinUrl, jsonHeaders, sendRequest } from './send-request.js';
import { trustContext } from './tls-trust.js';
import type { Transport, TransportResponse } from './transport.js';

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
    const tlsOptions = secure
      ? { secureContext: trustContext(this.options.ca), rejectUnauthorized: !this.options.insecure }
      : {};
    const options = {
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port,
      path: `${url.pathname}${url.search}`,
      method,
      headers: jsonHeaders(data),
      agent: false as const,
      ...tlsOptions,
    };
    return sendRequest(async () => ({ secure, options }), data, this.options);
  }
}
