import { SmartlicError } from '@smartlic/protocol';

/** `NOT_FOUND` naming what was looked for, e.g. "Virtual account 'x' was not found." */
export function notFound(what: string, id: string): SmartlicError {
  return new SmartlicError('NOT_FOUND', { message: `${what} '${id}' was not found.`, context: { id } });
}

/** `CONFLICT` with a message saying what already exists. */
export function conflict(message: string, fields?: Record<string, string[]>): SmartlicError {
  return new SmartlicError('CONFLICT', { message, context: fields ? { fields } : {} });
}

/**
 * The one answer to a caller who names something that does not exist, or that exists
 * where the caller holds no role: `404 NOT_FOUND`, worded alike, so that nobody can probe
 * for other accounts' ids.
 */
export function notFoundOrNotAllowed(what: string, id: string): SmartlicError {
  return new SmartlicError('NOT_FOUND', {
    message: `${what} '${id}' was not found, or you are not allowed to see it.`,
    context: { id },
  });
}
