import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';

/** How the test proxy behaves. */
export interface ConnectProxyConfig {
  /** Require `Proxy-Authorization: Basic` with these credentials (407 otherwise). */
  auth?: { user: string; password: string };
  /**
   * Terminate TLS inside CONNECT tunnels with this certificate (issued by the proxy's own CA;
   * `certPem` may carry the CA after the leaf) and forward the requests to the real destination,
   * as a TLS-intercepting corporate proxy does.
   */
  intercept?: { certPem: string; keyPem: string };
}

/**
 * A small HTTP proxy for tests: `CONNECT` tunnels (optionally intercepting TLS) and absolute-URI
 * forwarding of plain HTTP, with optional Basic authentication. `log` receives one line per
 * request: `CONNECT 127.0.0.1:4433 200`, `FORWARD POST http://… 200`, `INTERCEPT POST /… 200`.
 */
export function createConnectProxy(config: ConnectProxyConfig, log: (line: string) => void = () => {}): http.Server {
  const expected = config.auth
    ? `Basic ${Buffer.from(`${config.auth.user}:${config.auth.password}`).toString('base64')}`
    : undefined;
  const authorized = (req: http.IncomingMessage): boolean =>
    expected === undefined || req.headers['proxy-authorization'] === expected;

  const server = http.createServer((req, res) => {
    const target = req.url ?? '';
    if (!authorized(req)) {
      log(`FORWARD ${req.method} ${target} 407`);
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="smartlic-test-proxy"' });
      return void res.end();
    }
    if (!/^http:\/\//.test(target)) {
      res.writeHead(400);
      return void res.end('absolute http:// URI expected');
    }
    forward(http, target, req, res, {}, (status) => log(`FORWARD ${req.method} ${target} ${status}`));
  });

  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const target = req.url ?? '';
    client.on('error', () => client.destroy());
    if (!authorized(req)) {
      log(`CONNECT ${target} 407`);
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="smartlic-test-proxy"\r\nContent-Length: 0\r\n\r\n',
      );
      return;
    }
    const [host, portText] = splitHostPort(target);
    if (config.intercept) return intercept(config.intercept, host, Number(portText), client, head, log, target);
    const upstream = net.connect(Number(portText), host, () => {
      log(`CONNECT ${target} 200`);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => {
      log(`CONNECT ${target} 502`);
      client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
    });
  });
  return server;
}

function splitHostPort(target: string): [string, string] {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(target);
  return match ? [match[1] ?? '', match[2] ?? '443'] : [target, '443'];
}

/** Answers CONNECT with 200, then plays the TLS server itself and relays each request upstream over HTTPS. */
function intercept(
  cert: { certPem: string; keyPem: string },
  host: string,
  port: number,
  client: net.Socket,
  head: Buffer,
  log: (line: string) => void,
  target: string,
): void {
  log(`CONNECT ${target} 200 (intercepted)`);
  client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
  if (head.length > 0) client.unshift(head);
  const secured = new tls.TLSSocket(client, { isServer: true, cert: cert.certPem, key: cert.keyPem });
  secured.on('error', () => secured.destroy());
  const inner = http.createServer((req, res) => {
    const url = `https://${host}:${port}${req.url ?? '/'}`;
    forward(https, url, req, res, { rejectUnauthorized: false }, (status) =>
      log(`INTERCEPT ${req.method} ${req.url} ${status}`),
    );
  });
  inner.emit('connection', secured);
}

/** Relays `req` to `url` and its answer back to `res`. */
function forward(
  module: typeof http | typeof https,
  url: string,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  extra: https.RequestOptions,
  done: (status: number) => void,
): void {
  const headers = { ...req.headers };
  delete headers['proxy-authorization'];
  delete headers['proxy-connection'];
  const upstream = module.request(url, { method: req.method, headers, agent: false, ...extra }, (answer) => {
    done(answer.statusCode ?? 0);
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', () => {
    done(502);
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(upstream);
}
