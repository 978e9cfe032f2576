import type { FastifyInstance } from 'fastify';
import { parseInput } from '../../validation.js';
import { CreateTokenBody } from './token-schemas.js';
import type { TokenService } from './token-service.js';

/** Admin routes of registration tokens. */
export function registerTokenRoutes(app: FastifyInstance, tokens: TokenService): void {
  app.post<{ Params: { vaId: string } }>('/api/v1/virtual-accounts/:vaId/tokens', async (request, reply) => {
    const body = parseInput(CreateTokenBody, request.body ?? {});
    return reply.code(201).send(await tokens.createToken(request.params.vaId, body));
  });

  app.get<{ Params: { vaId: string } }>('/api/v1/virtual-accounts/:vaId/tokens', async (request) =>
    tokens.listTokens(request.params.vaId),
  );

  app.post<{ Params: { tokenId: string } }>('/api/v1/tokens/:tokenId/revoke', async (request) =>
    tokens.revokeToken(request.params.tokenId),
  );
}
