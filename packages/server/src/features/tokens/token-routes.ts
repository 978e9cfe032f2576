import type { FastifyInstance } from 'fastify';
import { access, actorOf } from '../../http/route-access.js';
import { parseInput } from '../../validation.js';
import { CreateTokenBody, TokenView } from './token-schemas.js';
import type { TokenService } from './token-service.js';

/** Admin routes of registration tokens. */
export function registerTokenRoutes(app: FastifyInstance, tokens: TokenService): void {
  app.post<{ Params: { vaId: string } }>(
    '/api/v1/virtual-accounts/:vaId/tokens',
    {
      config: access('write', 'va', {
        summary: 'Create a registration token',
        body: CreateTokenBody,
        response: TokenView,
        status: 201,
      }),
    },
    async (request, reply) => {
      const body = parseInput(CreateTokenBody, request.body ?? {});
      return reply.code(201).send(await tokens.createToken(request.params.vaId, body, actorOf(request)));
    },
  );

  app.get<{ Params: { vaId: string } }>(
    '/api/v1/virtual-accounts/:vaId/tokens',
    { config: access('read', 'va', { summary: "List a VA's registration tokens", response: TokenView.array() }) },
    async (request) => tokens.listTokens(request.params.vaId),
  );

  app.post<{ Params: { tokenId: string } }>(
    '/api/v1/tokens/:tokenId/revoke',
    { config: access('write', 'va', { summary: 'Revoke a registration token', response: TokenView }) },
    async (request) => tokens.revokeToken(request.params.tokenId, actorOf(request)),
  );
}
