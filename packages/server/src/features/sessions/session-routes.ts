import { SmartlicError } from '@smartlic/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checkCsrf, sameOrigin, sessionTokenOf } from '../../http/admin-auth.js';
import type { RateLimiter } from '../../http/rate-limits.js';
import { publicRoute } from '../../http/route-config.js';
import { parseInput } from '../../validation.js';
import { SessionAnswer, SignInBody } from './session-schemas.js';
import type { SessionService } from './session-service.js';
import { SESSION_COOKIE } from './session-token.js';

const noSession = () => new SmartlicError('UNAUTHENTICATED', { message: 'There is no portal session: sign in.' });

/** Sign-in, the current session and sign-out of the portal (ADR 0016); no API key needed. */
export function registerSessionRoutes(app: FastifyInstance, sessions: SessionService, limits: RateLimiter): void {
  const setCookie = (request: FastifyRequest, reply: FastifyReply, token: string) =>
    reply.setCookie(SESSION_COOKIE, token, {
      httpOnly: true,
      sameSite: 'strict',
      path: '/',
      secure: request.protocol === 'https',
    });

  app.post(
    '/api/v1/session',
    {
      config: publicRoute({
        summary:
          'Sign in to the portal with an e-mail (or "admin") and password, or an API key: sets the session cookie',
        body: SignInBody,
        response: SessionAnswer,
      }),
      preHandler: async (request) => {
        // A cross-site page must not sign the browser in to an account of its choosing.
        if (!sameOrigin(request)) throw new SmartlicError('CSRF_REJECTED');
        await limits.signIn(request);
      },
    },
    async (request, reply) => {
      const credentials = parseInput(SignInBody, request.body);
      const { token, view } = await sessions.signIn(credentials, {
        address: request.ip,
        previousToken: sessionTokenOf(request),
      });
      setCookie(request, reply, token);
      reply.header('cache-control', 'no-store');
      return view;
    },
  );

  app.get(
    '/api/v1/session',
    {
      config: publicRoute({
        summary: 'The portal session of the cookie (401 when there is none)',
        response: SessionAnswer,
      }),
    },
    async (request, reply) => {
      const token = sessionTokenOf(request);
      const live = token === undefined ? undefined : await sessions.resume(token);
      if (!live) throw noSession();
      reply.header('cache-control', 'no-store');
      return live.view;
    },
  );

  app.delete(
    '/api/v1/session',
    { config: publicRoute({ summary: 'Sign out: ends the session of the cookie and clears it', status: 204 }) },
    async (request, reply) => {
      const token = sessionTokenOf(request);
      if (token !== undefined) {
        checkCsrf(request, token);
        await sessions.signOut(token);
      }
      reply.clearCookie(SESSION_COOKIE, {
        path: '/',
        httpOnly: true,
        sameSite: 'strict',
        secure: request.protocol === 'https',
      });
      return reply.code(204).send();
    },
  );
}
