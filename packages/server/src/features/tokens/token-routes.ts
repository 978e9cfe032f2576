import type { FastifyInstance } from 'fastify';
import { actorOf } from '../../http/route-access.js';
import { adminRoute } from '../../http/route-config.js';
import { parseInput } from '../../validation.js';
import { mayActOnVa } from '../access/access-policy.js';
import { byToken, byVa, target } from '../access/route-targets.js';
import { CreatedTokenView, CreateTokenBody, TokenView } from './token-schemas.js';
import type { TokenService } from './token-service.js';

/** Admin routes of registration tokens. */
export function registerTokenRoutes(app: FastifyInstance, tokens: TokenService): void {
  app.post<{ Params: { vaId: string } }>(
    '/api/v1/virtual-accounts/:vaId/tokens',
    {
      config: adminRoute('write', target.va(byVa()), {
        summary: 'Create a registration token',
        body: CreateTokenBody,
        response: CreatedTokenView,
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
    {
      config: adminRoute('read', target.va(byVa()), {
        summary: "List a VA's registration tokens (their values only to those who may create tokens there)",
        response: TokenView.array(),
      }),
    },
    async (request) => {
      const principal = request.principal;
      // The value is shown to those who may create tokens in the VA (write: user, admin), never to viewers.
      return tokens.listTokens(
        request.params.vaId,
        ({ accountId, vaId }) => principal !== null && mayActOnVa(principal, 'write', accountId, vaId),
      );
    },
  );

  app.post<{ Params: { tokenId: string } }>(
    '/api/v1/tokens/:tokenId/revoke',
    {
      config: adminRoute('write', target.va(byToken()), {
        summary: 'Revoke a registration token',
        response: CreatedTokenView,
      }),
    },
    async (request) => tokens.revokeToken(request.params.tokenId, actorOf(request)),
  );
}
