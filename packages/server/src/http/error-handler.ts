import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { ERRORS, type ErrorBody, type ErrorCode, errorMessage, SmartlicError } from '@smartlic/protocol';
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type BusyLogTimers, createBusyLog } from './busy-log.js';
import { BODY_LIMIT_BYTES, MAX_PARAM_LENGTH } from './limits.js';

/** How an error is answered: HTTP status, body, and how loudly it is logged. */
export interface ErrorAnswer {
  status: number;
  body: ErrorBody;
  level: 'info' | 'warn' | 'error';
  /** Extra response headers: `Retry-After` for `RATE_LIMITED`. */
  headers?: Record<string, string>;
}

/**
 * Translates any error into the answer of the API: `SmartlicError`s keep their code,
 * message and fields (and `Retry-After` when they say how long to wait); fastify's body errors become `MALFORMED_JSON`, `BODY_TOO_LARGE` or
 * `BAD_REQUEST`; a busy or conflicting database (SQLite or PostgreSQL) is `SERVER_BUSY`; anything else is `INTERNAL` and never
 * shows its cause.
 */
export function answerFor(error: unknown, requestId: string, bodyLimit: number = BODY_LIMIT_BYTES): ErrorAnswer {
  if (error instanceof SmartlicError) {
    const status = error.status >= 400 ? error.status : 500;
    const fields = fieldsOf(error.context.fields);
    const retryAfter = error.context.retryAfterSeconds;
    return {
      status,
      body: { code: error.code, message: error.message, requestId, ...(fields ? { fields } : {}) },
      // A busy server heals itself: WARN, not ERROR (STYLE.md).
      // A satellite not registered yet is an operator's next step, not a failure of this server.
      level:
        error.code === 'SERVER_BUSY' || error.code === 'SATELLITE_NOT_REGISTERED'
          ? 'warn'
          : status >= 500
            ? 'error'
            : 'info',
      ...(typeof retryAfter === 'number' ? { headers: { 'retry-after': String(retryAfter) } } : {}),
    };
  }
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return simple('MALFORMED_JSON', requestId);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return simple(
        'BODY_TOO_LARGE',
        requestId,
        `The request body is too large (the limit is ${sizeText(bodyLimit)}).`,
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return simple('BAD_REQUEST', requestId, 'Unsupported Content-Type: send the body as application/json.');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return simple(
        'BAD_REQUEST',
        requestId,
        `A path parameter is too long (the limit is ${MAX_PARAM_LENGTH} characters).`,
      );
    case 'FST_ERR_BAD_URL':
      return simple('BAD_REQUEST', requestId, 'The URL is not valid (a path segment is not valid percent-encoding).');
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
    case '40001': // PostgreSQL: serialization failure (outside the transactor's retries)
    case '40P01': // deadlock detected
    case '53300': // too many connections
      return { ...simple('SERVER_BUSY', requestId), level: 'warn' };
    case 'SQLITE_CONSTRAINT_UNIQUE':
    case 'SQLITE_CONSTRAINT_PRIMARYKEY':
    case '23505':
      return { ...simple('CONFLICT', requestId), level: 'warn' };
  }
  const status = (error as FastifyError | null)?.statusCode;
  if (
    typeof code === 'string' &&
    code.startsWith('FST_') &&
    typeof status === 'number' &&
    status >= 400 &&
    status < 500
  ) {
    // Fastify's own client errors (bad URL, bad content length, …): its messages are safe to show.
    return simple('BAD_REQUEST', requestId, (error as Error).message);
  }
  return { ...simple('INTERNAL', requestId), level: 'error' };
}

function simple(code: ErrorCode, requestId: string, message = errorMessage(code)): ErrorAnswer {
  return { status: ERRORS[code].status, body: { code, message, requestId }, level: 'info' };
}

function fieldsOf(value: unknown): Record<string, string[]> | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const entries = Object.entries(value as Record<string, unknown>).filter(
    (e): e is [string, string[]] => Array.isArray(e[1]) && e[1].every((m) => typeof m === 'string'),
  );
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

/** A body limit as the 413 message states it: KiB below a MiB, else MiB. */
function sizeText(bytes: number): string {
  return bytes < 1024 * 1024 ? `${bytes / 1024} KiB` : `${bytes / (1024 * 1024)} MiB`;
}

/** Options of {@link installErrorHandlers}: how `SERVER_BUSY` bursts are summed up (tests). */
export interface ErrorHandlerOptions {
  busyLogWindowMs?: number;
  busyLogTimers?: BusyLogTimers;
  /**
   * Answers a request no route matched before the JSON 404 does (the portal's files and deep
   * links, `portal-static.ts`); returns false to leave it to the 404.
   */
  fallback?: (request: FastifyRequest, reply: FastifyReply) => boolean;
}

/**
 * Answers and logs an error of the request `requestId`: {@link answerFor}, then a line on `log`
 * (the request's logger) at the answer's level, or one line per burst of `SERVER_BUSY`.
 */
export type ErrorReporter = (
  error: unknown,
  requestId: string,
  log: FastifyBaseLogger,
  bodyLimit?: number,
) => ErrorAnswer;

/**
 * Installs the error and not-found handlers on `app`. `SERVER_BUSY` refusals are logged at
 * WARN once per burst (`busy-log.ts`), not once per request. Returns how the handler answers
 * and logs an error, for the device lane (`device-lane.ts`), which answers outside fastify.
 */
export function installErrorHandlers(app: FastifyInstance, options: ErrorHandlerOptions = {}): ErrorReporter {
  const busy = createBusyLog(app.log, options.busyLogWindowMs, options.busyLogTimers);
  app.addHook('onClose', async () => busy.flush());
  const report: ErrorReporter = (error, requestId, log, bodyLimit) => {
    const answer = answerFor(error, requestId, bodyLimit);
    if (answer.body.code === 'SERVER_BUSY') {
      busy.refused(requestId);
    } else if (answer.level === 'error') {
      log.error({ err: error, code: answer.body.code }, 'Request failed with an internal error');
    } else {
      log[answer.level]({ code: answer.body.code, message: answer.body.message }, 'Request refused');
    }
    return answer;
  };
  app.setErrorHandler((error, request, reply) => {
    const answer = report(error, request.id, request.log, request.routeOptions?.bodyLimit);
    if (answer.headers) reply.headers(answer.headers);
    return reply.status(answer.status).send(answer.body);
  });
  app.setNotFoundHandler((request, reply) => {
    if (options.fallback?.(request, reply)) return reply;
    const path = request.url.split('?')[0] ?? '';
    const body: ErrorBody = {
      code: 'NOT_FOUND',
      message: `There is no route ${request.method.slice(0, 20)} ${path.length > 200 ? `${path.slice(0, 200)}…` : path}.`,
      requestId: request.id,
    };
    return reply.status(404).send(body);
  });
  return report;
}

/**
 * Fastify's `frameworkErrors`: errors found before routing (a path parameter longer than
 * {@link MAX_PARAM_LENGTH}, a URL that is not valid percent-encoding) answer like every
 * other error, `{code, message, requestId}`, without echoing the URL.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const answer = answerFor(error, request.id);
  request.log.info({ code: answer.body.code, message: answer.body.message }, 'Request refused');
  void reply.status(answer.status).send(answer.body);
}

/** What a connection that is not valid HTTP is answered, by the parser's error code. */
function clientErrorAnswer(code: string | undefined): { status: number; reason: string; message: string } {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, reason: 'Request Timeout', message: 'The request did not arrive in time.' };
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, reason: 'Request Header Fields Too Large', message: 'The request headers are too large.' };
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return { status: 400, reason: 'Bad Request', message: 'The Content-Length header is not valid.' };
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return { status: 400, reason: 'Bad Request', message: 'The Transfer-Encoding header is not valid.' };
    default:
      return { status: 400, reason: 'Bad Request', message: 'The request is not valid HTTP.' };
  }
}

/**
 * Fastify's `clientErrorHandler`: a connection that is not valid HTTP (bad request line,
 * bad Content-Length, headers too large…) is answered `{code: 'BAD_REQUEST', message,
 * requestId}` like any other error, and closed.
 */
export function clientErrorHandler(this: FastifyInstance, error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const requestId = randomUUID();
  const { status, reason, message } = clientErrorAnswer(error.code);
  const body = JSON.stringify({ code: 'BAD_REQUEST', message, requestId } satisfies ErrorBody);
  this.log.info({ requestId, code: 'BAD_REQUEST', parserCode: error.code, message }, 'Request refused');
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
