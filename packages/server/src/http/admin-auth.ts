import { SmartlicError } from '@smartlic/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiKeyService, ApiPrincipal } from '../features/api-keys/api-key-service.js';
import type { LiveSession, SessionService } from '../features/sessions/session-service.js';
import { csrfTokenMatches, SESSION_COOKIE } from '../features/sessions/session-token.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who an admin request acts as; set by the admin authentication hook. */
    principal: ApiPrincipal | null;
    /** The portal session the request came with, when it authenticated by cookie. */
    portalSession: LiveSession | null;
  }
}

/** Methods that change nothing: a cookie request of another method must prove it comes from the portal. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Authenticates every route of `scope` (before the body is read): `Authorization: Bearer <API
 * key>` as before, or else the portal's session cookie, which acts as its user (the same access
 * control applies). A cookie request that may change something must carry the session's
 * `X-CSRF-Token` and, when it has an Origin header, come from this server's own origin
 * (`CSRF_REJECTED` otherwise, before anything is read or written).
 */
export function requirePrincipal(
  scope: FastifyInstance,
  deps: { apiKeys: ApiKeyService; sessions: SessionService },
): void {
  scope.addHook('onRequest', async (request) => {
    const token = request.headers.authorization === undefined ? sessionTokenOf(request) : undefined;
    if (token === undefined) {
      request.principal = await deps.apiKeys.authenticate(request.headers.authorization);
      return;
    }
    checkCsrf(request, token);
    const live = await deps.sessions.resume(token);
    if (!live) {
      throw new SmartlicError('UNAUTHENTICATED', {
        message: 'Your portal session has ended: sign in again (or send an API key as "Authorization: Bearer <key>").',
      });
    }
    request.principal = live.principal;
    request.portalSession = live;
  });
}

/** The session token of the request's cookie, if it has one. */
export function sessionTokenOf(request: FastifyRequest): string | undefined {
  const value = request.cookies?.[SESSION_COOKIE];
  return value ? value : undefined;
}

/**
 * Refuses a cookie request that may change something unless it carries the session's CSRF
 * token and any Origin header is this server's own origin.
 */
export function checkCsrf(request: FastifyRequest, token: string): void {
  if (SAFE_METHODS.has(request.method)) return;
  const header = request.headers['x-csrf-token'];
  const presented = typeof header === 'string' ? header : undefined;
  if (!sameOrigin(request) || !csrfTokenMatches(token, presented)) {
    throw new SmartlicError('CSRF_REJECTED');
  }
}

/** Whether the request's Origin header, if any, is this server's own origin. */
export function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  return origin === `${request.protocol}://${request.host}`;
}
