import type { FastifyInstance } from 'fastify';
import { actorOf } from '../../http/route-access.js';
import { adminRoute } from '../../http/route-config.js';
import { parseInput } from '../../validation.js';
import { ApiKeyCreated, ApiKeyView, CreateKeyBody, CreateUserBody, UserCreated, UserView } from './user-schemas.js';
import type { UserService } from './user-service.js';

/** Admin routes of users, roles and API keys. */
export function registerUserRoutes(app: FastifyInstance, users: UserService): void {
  app.post(
    '/api/v1/users',
    {
      config: adminRoute(
        'admin',
        'va',
        {
          summary: 'Create a user (or grant an existing one a role) and issue an API key',
          body: CreateUserBody,
          response: UserCreated,
          status: 201,
        },
        'managing users and roles',
      ),
    },
    async (request, reply) => {
      const body = parseInput(CreateUserBody, request.body);
      return reply.code(201).send(await users.createUser(body, actorOf(request)));
    },
  );

  app.get<{ Params: { accountId: string } }>(
    '/api/v1/accounts/:accountId/users',
    {
      config: adminRoute(
        'admin',
        'account',
        { summary: 'List the users with a role in a Smart Account', response: UserView.array() },
        'listing users',
      ),
    },
    async (request) => users.listAccountUsers(request.params.accountId),
  );

  app.post<{ Params: { userId: string } }>(
    '/api/v1/users/:userId/api-keys',
    {
      config: adminRoute(
        'write',
        'user',
        {
          summary: 'Issue a new API key for a user (shown once)',
          body: CreateKeyBody,
          response: ApiKeyCreated,
          status: 201,
        },
        'creating API keys',
      ),
    },
    async (request, reply) => {
      const body = parseInput(CreateKeyBody, request.body ?? {});
      return reply.code(201).send(await users.createKey(request.params.userId, body.name, actorOf(request)));
    },
  );

  app.get<{ Params: { userId: string } }>(
    '/api/v1/users/:userId/api-keys',
    {
      config: adminRoute(
        'read',
        'user',
        { summary: "List a user's API keys (never the secrets)", response: ApiKeyView.array() },
        'listing API keys',
      ),
    },
    async (request) => users.listKeys(request.params.userId),
  );

  app.post<{ Params: { keyId: string } }>(
    '/api/v1/api-keys/:keyId/revoke',
    {
      config: adminRoute('write', 'user', { summary: 'Revoke an API key', response: ApiKeyView }, 'revoking API keys'),
    },
    async (request) => users.revokeKey(request.params.keyId, actorOf(request)),
  );
}
