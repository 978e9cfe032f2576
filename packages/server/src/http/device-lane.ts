import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { performance } from 'node:perf_hooks';
import type { DeviceObserver } from '../features/device/device-routes.js';
import type { DeviceService } from '../features/device/device-service.js';
import type { Logger } from '../logger.js';
import type { ErrorReporter } from './error-handler.js';
import type { JsonBodyParse } from './json-body.js';
import { BODY_LIMIT_BYTES } from './limits.js';
import { countRequest } from './metrics/ops-routes.js';
import type { ServerMetrics } from './metrics/server-metrics.js';
import type { RateLimiter } from './rate-limits.js';
import { pathOf } from './request-log.js';

// The device lane (ADR 0026): the authorization renewal — the one message every device sends
// all the time — answered from the HTTP server's request listener, outside fastify's request
// cycle, which cost the renewal ~12 % of the server's CPU. It takes only requests whose headers
// are plain (POST to the exact path, a JSON content type, a Content-Length within the body
// limit); anything else, and everything while closing, goes to fastify as before, whose answer
// to such a request the lane would otherwise have to copy.

type Listener = (request: IncomingMessage, response: ServerResponse) => void;

/** What the lane answers with: the app's own parts, handed over once the app has built them. */
export interface DeviceLaneDeps {
  device: Pick<DeviceService, 'accept' | 'authorize'>;
  limits: Pick<RateLimiter, 'deviceBody'>;
  observe: DeviceObserver;
  /** The app's JSON body parser (`installJsonBodyParser`). */
  parseJson: JsonBodyParse;
  /** The app's error handler (`installErrorHandlers`): the same answers and log lines. */
  reportError: ErrorReporter;
  /** Whether the app is closing (`installGracefulClose`): then fastify answers, 503. */
  closing: () => boolean;
  metrics: ServerMetrics;
  log: Logger;
}

export interface DeviceLane {
  /** Fastify's `serverFactory`: the HTTP(S) server whose requests the lane sees first. */
  serverFactory(https?: { cert: string; key: string }): (handler: Listener, options: Record<string, unknown>) => Server;
  /** Starts taking requests; until then (and for requests it does not take) fastify answers. */
  open(deps: DeviceLaneDeps): void;
}

/** Content types the lane takes as they are written in practice; other spellings go to fastify. */
const JSON_TYPES = new Set(['application/json', 'application/json; charset=utf-8']);

/** A lane for the authorization route at each of `paths` (the route, and under the transport prefix). */
export function createDeviceLane(paths: readonly string[]): DeviceLane {
  const routes = new Set(paths);
  let deps: DeviceLaneDeps | undefined;
  const listener =
    (fallback: Listener): Listener =>
    (request, response) => {
      if (deps && takes(request, routes) && !deps.closing()) answer(deps, request, response);
      else fallback(request, response);
    };
  return {
    serverFactory: (https) => (handler, options) => {
      // As fastify's own `getServerInstance` makes an HTTP/1 server, with the timeouts of its options.
      const server = https ? createHttpsServer(https, listener(handler)) : createServer(listener(handler));
      server.keepAliveTimeout = Number(options.keepAliveTimeout);
      server.requestTimeout = Number(options.requestTimeout);
      server.setTimeout(Number(options.connectionTimeout));
      const perSocket = Number(options.maxRequestsPerSocket);
      if (perSocket > 0) server.maxRequestsPerSocket = perSocket;
      return server;
    },
    open(given) {
      deps = given;
    },
  };
}

/** Whether the lane answers `request`, from its request line and headers alone (nothing read yet). */
function takes(request: IncomingMessage, routes: ReadonlySet<string>): boolean {
  if (request.method !== 'POST' || !routes.has(request.url ?? '')) return false;
  const { headers } = request;
  const type = headers['content-type'];
  if (type === undefined || !JSON_TYPES.has(type.toLowerCase())) return false;
  if (headers['transfer-encoding'] !== undefined || headers['content-encoding'] !== undefined) return false;
  const length = headers['content-length'];
  if (length === undefined) return false;
  const bytes = Number(length);
  // Node's parser reads exactly this many bytes, so the body cannot exceed the limit.
  return Number.isInteger(bytes) && bytes <= BODY_LIMIT_BYTES;
}

function answer(deps: DeviceLaneDeps, request: IncomingMessage, response: ServerResponse): void {
  const started = performance.now();
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  // A request cut short never ends: node closes its socket, and there is no one to answer.
  request.on('end', () => {
    respond(deps, request, response, Buffer.concat(chunks).toString('utf8'), started).catch((error: unknown) => {
      // Nothing above should throw once the answer is chosen; if it does, the process stays up.
      deps.log.error({ err: error }, 'Answering a renewal failed');
      response.destroy();
    });
  });
}

async function respond(
  deps: DeviceLaneDeps,
  request: IncomingMessage,
  response: ServerResponse,
  text: string,
  started: number,
): Promise<void> {
  let status = 200;
  let json: string;
  let requestId: string | undefined;
  let errorCode: string | undefined;
  let headers: Record<string, string> | undefined;
  try {
    // In fastify's order: body parsed, the instance's rate limit, then validation and the message.
    const body = parse(deps.parseJson, text);
    deps.limits.deviceBody(body);
    const signed = await deps.device.authorize(deps.device.accept('authorize', body));
    deps.observe.authorized(signed.envelope.payload.status);
    json = signed.json;
  } catch (error) {
    requestId = randomUUID();
    const refused = deps.reportError(error, requestId, deps.log.child({ requestId }));
    status = refused.status;
    errorCode = refused.body.code;
    headers = refused.headers;
    json = JSON.stringify(refused.body);
  }
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
    ...headers,
    ...(deps.closing() ? { connection: 'close' } : {}),
  });
  response.end(json);
  const ms = performance.now() - started;
  const route = request.url ?? '';
  countRequest(deps.metrics, { method: 'POST', route, status, ms, errorCode });
  deps.metrics.deviceLane.inc({ route });
  // As `RequestLog` writes it; a busy server runs at WARN and has no line to build.
  if (deps.log.isLevelEnabled('info')) {
    deps.log.info(
      {
        requestId: requestId ?? randomUUID(),
        method: 'POST',
        url: pathOf(route),
        statusCode: status,
        ms: Math.round(ms * 10) / 10,
      },
      'request completed',
    );
  }
}

/** The body parsed by the app's parser, synchronously; its error thrown as fastify would pass it on. */
function parse(parseJson: JsonBodyParse, text: string): unknown {
  let parsed: { error: Error | null; body?: unknown } | undefined;
  parseJson(text, (error, body) => {
    parsed = { error, body };
  });
  if (!parsed) throw new Error('The JSON body parser did not answer synchronously.');
  if (parsed.error) throw parsed.error;
  return parsed.body;
}
