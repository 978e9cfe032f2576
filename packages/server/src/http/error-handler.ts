import { ERRORS, type ErrorBody, type ErrorCode, errorMessage, SmartlicError } from '@smartlic/protocol';
import type { FastifyError, FastifyInstance } from 'fastify';
import { BODY_LIMIT_BYTES } from './limits.js';

/** How an error is answered: HTTP status, body, and how loudly it is logged. */
export interface ErrorAnswer {
  status: number;
  body: ErrorBody;
  level: 'info' | 'warn' | 'error';
}

/**
 * Translates any error into the answer of the API: `SmartlicError`s keep their code,
 * message and fields; fastify's body errors become `MALFORMED_JSON`, `BODY_TOO_LARGE` or
 * `BAD_REQUEST`; a busy or conflicting database (SQLite or PostgreSQL) is `SERVER_BUSY`; anything else is `INTERNAL` and never
 * shows its cause.
 */
export function answerFor(error: unknown, requestId: string): ErrorAnswer {
  if (error instanceof SmartlicError) {
    const status = error.status >= 400 ? error.status : 500;
    const fields = fieldsOf(error.context.fields);
    return {
      status,
      body: { code: error.code, message: error.message, requestId, ...(fields ? { fields } : {}) },
      level: status >= 500 ? 'error' : 'info',
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
        `The request body is too large (the limit is ${BODY_LIMIT_BYTES / 1024} KiB).`,
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return simple('BAD_REQUEST', requestId, 'Unsupported Content-Type: send the body as application/json.');
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

/** Installs the error and not-found handlers on `app`. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const answer = answerFor(error, request.id);
    if (answer.level === 'error') {
      request.log.error({ err: error, code: answer.body.code }, 'Request failed with an internal error');
    } else {
      request.log[answer.level]({ code: answer.body.code, message: answer.body.message }, 'Request refused');
    }
    return reply.status(answer.status).send(answer.body);
  });
  app.setNotFoundHandler((request, reply) => {
    const body: ErrorBody = {
      code: 'NOT_FOUND',
      message: `There is no route ${request.method} ${request.url.split('?')[0]}.`,
      requestId: request.id,
    };
    return reply.status(404).send(body);
  });
}
