import type { FastifyInstance } from 'fastify';
import type { ApiKeyService, ApiPrincipal } from '../features/api-keys/api-key-service.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who an admin request acts as; set by the admin authentication hook. */
    principal: ApiPrincipal | null;
  }
}

/**
 * Requires `Authorization: Bearer <API key>` on every route of `scope` (checked before the
 * body is read); the principal is put on the request.
 */
export function requireApiKey(scope: FastifyInstance, apiKeys: ApiKeyService): void {
  scope.addHook('onRequest', async (request) => {
    request.principal = await apiKeys.authenticate(request.headers.authorization);
  });
}
