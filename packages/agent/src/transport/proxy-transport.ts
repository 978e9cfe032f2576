import { openTunnel, proxyAuthorization, proxyRefusal, startTls } from './proxy-tunnel.js';
import { joinUrl, jsonHeaders, type PreparedRequest, sendRequest } from './send-request.js';
import { trustContext } from './tls-trust.js';
import type { Transport, TransportResponse } from './transport.js';

/** Options of the proxy transport. */
export interface ProxyTransportOptions {
  /** The destination URL; request paths are appended to its path. */
  baseUrl: string;
  /** The proxy, `http://[user:password@]host:port` (or `https://…`). */
  proxyUrl: string;
  /** Extra trust anchors (PEM), besides the platform's public roots: the authority root, a proxy's CA. */
  ca?: readonly string[];
  timeoutMs: number;
  maxResponseBytes?: number;
  /** Skip TLS verification of the destination: only for fetching the root certificate on first use. */
  insecure?: boolean;
}

/**
 * JSON through an HTTP(S) proxy. An `https://` destination goes through a `CONNECT` tunnel and
 * TLS runs end to end inside it, checked against the platform roots plus the imported trust
 * points (a TLS-intercepting proxy is refused until its CA is imported). An `http://` destination
 * is forwarded by the proxy (absolute-URI request). Credentials in the proxy URL are sent as
 * `Proxy-Authorization: Basic …`.
 */
export class ProxyTransport implements Transport {
  private readonly proxy: URL;

  constructor(private readonly options: ProxyTransportOptions) {
    this.proxy = new URL(options.proxyUrl);
  }

  /** POSTs `body` as JSON. */
  postJson(path: string, body: unknown): Promise<TransportResponse> {
    return this.request('POST', path, JSON.stringify(body));
  }

  /** GETs `path`. */
  get(path: string): Promise<TransportResponse> {
    return this.request('GET', path);
  }

  private async request(method: 'GET' | 'POST', path: string, data?: string): Promise<TransportResponse> {
    const url = joinUrl(this.options.baseUrl, path);
    const prepare = url.protocol === 'https:' ? this.tunnelled(url, method, data) : this.forwarded(url, method, data);
    const response = await sendRequest(prepare, data, this.options);
    if (url.protocol === 'http:' && response.status === 407) {
      throw proxyRefusal(this.proxy, 407, 'Proxy Authentication Required', url.host);
    }
    return response;
  }

  /** `https://` destination: CONNECT, then TLS to the destination inside the tunnel. */
  private tunnelled(url: URL, method: string, data: string | undefined) {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port || 443);
    return async (signal: AbortSignal): Promise<PreparedRequest> => {
      const ca = this.options.ca ?? [];
      const socket = await openTunnel({ url: this.proxy, ca }, host, port, signal);
      const secured = await startTls(
        socket,
        host,
        { secureContext: trustContext(ca), rejectUnauthorized: !this.options.insecure },
        signal,
      );
      const headers = { ...jsonHeaders(data), host: url.host };
      return {
        secure: false,
        socket: secured,
        options: { method, path: `${url.pathname}${url.search}`, headers, createConnection: () => secured },
      };
    };
  }

  /** `http://` destination: the proxy forwards an absolute-URI request. */
  private forwarded(url: URL, method: string, data: string | undefined) {
    const secure = this.proxy.protocol === 'https:';
    const headers = { ...jsonHeaders(data), host: url.host };
    const auth = proxyAuthorization(this.proxy);
    if (auth) headers['proxy-authorization'] = auth;
    const options = {
      hostname: this.proxy.hostname.replace(/^\[|\]$/g, ''),
      port: this.proxy.port || (secure ? 443 : 80),
      method,
      path: url.href,
      headers,
      agent: false as const,
      ...(secure ? { secureContext: trustContext(this.options.ca) } : {}),
    };
    return async (): Promise<PreparedRequest> => ({ secure, options });
  }
}
