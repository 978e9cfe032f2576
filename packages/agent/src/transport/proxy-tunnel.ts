import http from 'node:http';
import https from 'node:https';
import { isIP, type Socket } from 'node:net';
import tls from 'node:tls';
import { classifySocketError } from './send-request.js';
import { trustContext } from './tls-trust.js';
import { TransportError } from './transport.js';

/** `Basic …` for a proxy URL carrying `user:password@`, else undefined. */
export function proxyAuthorization(proxy: URL): string | undefined {
  if (!proxy.username && !proxy.password) return undefined;
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;
}

/** The proxy as `host:port`, for messages (never with its credentials). */
export function proxyName(proxy: URL): string {
  return `${proxy.hostname}:${proxy.port || (proxy.protocol === 'https:' ? 443 : 80)}`;
}

/** How to reach the proxy itself. */
export interface ProxyEndpoint {
  url: URL;
  /** Trust anchors for an `https://` proxy. */
  ca: readonly string[];
}

/** The error for a proxy that answered a request or a CONNECT with something other than success. */
export function proxyRefusal(
  proxy: URL,
  status: number,
  statusText: string | undefined,
  target: string,
): TransportError {
  const answer = `HTTP ${status}${statusText ? ` ${statusText}` : ''}`;
  if (status === 407) {
    const what = proxy.username ? 'refused the user and password of the proxy URL' : 'requires a user and password';
    return new TransportError('proxy-auth', `The HTTP proxy ${proxyName(proxy)} ${what} (${answer}).`);
  }
  return new TransportError('proxy', `The HTTP proxy ${proxyName(proxy)} refused to connect to ${target} (${answer}).`);
}

/**
 * Opens a tunnel to `host:port` through the proxy with `CONNECT`; resolves with the raw socket
 * once the proxy answers 200. Aborting `signal` destroys whatever is open.
 */
export function openTunnel(proxy: ProxyEndpoint, host: string, port: number, signal: AbortSignal): Promise<Socket> {
  const target = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  const headers: http.OutgoingHttpHeaders = { host: target, 'user-agent': 'smartlic-agent' };
  const auth = proxyAuthorization(proxy.url);
  if (auth) headers['proxy-authorization'] = auth;
  const secure = proxy.url.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const request = (secure ? https : http).request({
      hostname: proxy.url.hostname.replace(/^\[|\]$/g, ''),
      port: proxy.url.port || (secure ? 443 : 80),
      method: 'CONNECT',
      path: target,
      headers,
      agent: false,
      ...(secure ? { secureContext: trustContext(proxy.ca) } : {}),
    });
    const onAbort = (): void => {
      request.destroy();
      reject(new TransportError('timeout', `The HTTP proxy ${proxyName(proxy.url)} did not open the tunnel in time.`));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    request.once('connect', (response, socket, head) => {
      signal.removeEventListener('abort', onAbort);
      if (response.statusCode !== 200) {
        socket.destroy();
        reject(proxyRefusal(proxy.url, response.statusCode ?? 0, response.statusMessage, target));
        return;
      }
      if (head.length > 0) socket.unshift(head);
      signal.addEventListener('abort', () => socket.destroy(), { once: true });
      resolve(socket);
    });
    request.once('error', (error) => {
      signal.removeEventListener('abort', onAbort);
      reject(classifySocketError(error, `HTTP proxy ${proxyName(proxy.url)}`));
    });
    request.end();
  });
}

/**
 * Starts TLS to `host` over a tunnel socket and resolves once the handshake succeeded, so that a
 * peer the trust anchors do not vouch for (e.g. a TLS-intercepting proxy) is reported as such.
 */
export function startTls(
  socket: Socket,
  host: string,
  options: { secureContext: tls.SecureContext; rejectUnauthorized: boolean },
  signal: AbortSignal,
): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const secured = tls.connect({
      socket,
      host,
      ...(isIP(host) ? {} : { servername: host }),
      secureContext: options.secureContext,
      rejectUnauthorized: options.rejectUnauthorized,
    });
    const onAbort = (): void => {
      secured.destroy();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    secured.once('secureConnect', () => resolve(secured));
    secured.once('error', (error) => {
      signal.removeEventListener('abort', onAbort);
      secured.destroy();
      reject(classifySocketError(error));
    });
  });
}
