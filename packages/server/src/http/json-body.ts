import type { FastifyInstance } from 'fastify';

/**
 * Parses a request body as received (text): calls back with the value, `undefined` for a body
 * of white space only, or fastify's error (`FST_ERR_CTP_INVALID_JSON_BODY`, prototype poisoning
 * among them). Synchronous: `done` is called before it returns.
 */
export type JsonBodyParse = (text: string, done: (error: Error | null, body?: unknown) => void) => void;

/**
 * Fastify's JSON parser (prototype poisoning refused), except that an empty body reads as
 * no body, so that `POST …/revoke` with a JSON content type and nothing in it is fine.
 * Malformed JSON still fails, as `MALFORMED_JSON`. Returns the same parse for the device lane
 * (`device-lane.ts`), which reads its bodies outside fastify.
 */
export function installJsonBodyParser(app: FastifyInstance): JsonBodyParse {
  const parse = app.getDefaultJsonParser('error', 'error');
  const parseText: JsonBodyParse = (text, done) => {
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    // Fastify's default parser reads only the text: it has no use for the request.
    parse(undefined as never, text, done);
  };
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) =>
    parseText(body as string, done),
  );
  return parseText;
}
