import type { FastifyInstance } from 'fastify';

/**
 * Fastify's JSON parser (prototype poisoning refused), except that an empty body reads as
 * no body, so that `POST …/revoke` with a JSON content type and nothing in it is fine.
 * Malformed JSON still fails, as `MALFORMED_JSON`.
 */
export function installJsonBodyParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (typeof body === 'string' && body.trim() === '') {
      done(null, undefined);
      return;
    }
    parse(request, body as string, done);
  });
}
