import { SmartlicError } from '@smartlic/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { actorOf } from '../../http/route-access.js';
import { adminRoute } from '../../http/route-config.js';
import { parseInput } from '../../validation.js';
import { byAccount, byApiKey, byUser, byVa, target, type UserLookup } from '../access/route-targets.js';
import {
  ApiKeyCreated,
  ApiKeyView,
  CreateKeyBody,
  CreateUserBody,
  PasswordSet,
  RemoveRoleQuery,
  RoleRemoved,
  SetPasswordBody,
  UserCreated,
  UserView,
} from './user-schemas.js';
import type { UserCaller, UserService } from './user-service.js';

/** The caller of a user route: its access (grants inside its key's scope) and its event-log name. */
function callerOf(request: FastifyRequest): UserCaller {
  const principal = request.principal;
  if (!principal) throw new SmartlicError('UNAUTHENTICATED');
  return {
    owner: principal.owner,
    userId: principal.userId,
    grants: principal.grants,
    scope: principal.scope,
    actor: actorOf(request),
  };
}

/** The user `:userId`, named by id or by e-mail address. */
function byUserIdOrEmail(name = 'userId'): UserLookup {
  return {
    from: 'params',
    name,
    what: 'User',
    resolve: async (db, id) => {
      const row = await db
        .selectFrom('users')
        .select('id')
        .where((eb) => eb.or([eb('id', '=', id), eb('email', '=', id.trim().toLowerCase())]))
        .executeTakeFirst();
      return row && { userId: row.id };
    },
  };
}

/** Admin routes of users, roles and API keys. */
export function registerUserRoutes(app: FastifyInstance, users: UserService): void {
  app.post(
    '/api/v1/users',
    {
      config: adminRoute(
        'admin',
        target.va([byVa('vaId', 'body'), byAccount('accountId', 'body')]),
        {
          summary:
            'Grant a user a role (creating the user if new) and issue an API key scoped to the place the caller administers',
          body: CreateUserBody,
          response: UserCreated,
          status: 201,
        },
        'managing users and roles',
      ),
    },
    async (request, reply) => {
      const body = parseInput(CreateUserBody, request.body);
      return reply.code(201).send(await users.createUser(body, callerOf(request)));
    },
  );

  app.get<{ Params: { accountId: string } }>(
    '/api/v1/accounts/:accountId/users',
    {
      config: adminRoute(
        'admin',
        target.account(byAccount()),
        { summary: 'List the users with a role in a Smart Account', response: UserView.array() },
        'listing users',
      ),
    },
    async (request) => users.listAccountUsers(request.params.accountId),
  );

  app.delete<{ Params: { userId: string } }>(
    '/api/v1/users/:userId/roles',
    {
      config: adminRoute(
        'admin',
        target.va([byVa('vaId', 'query'), byAccount('accountId', 'query')]),
        {
          summary: "Remove a user's role on a Smart Account (or, with vaId, on a VA)",
          query: RemoveRoleQuery,
          response: RoleRemoved,
        },
        'managing users and roles',
      ),
    },
    async (request) => {
      const query = parseInput(RemoveRoleQuery, request.query);
      return users.removeRole(request.params.userId, query, callerOf(request));
    },
  );

  app.post<{ Params: { userId: string } }>(
    '/api/v1/users/:userId/api-keys',
    {
      config: adminRoute(
        'write',
        target.user(byUser()),
        {
          summary: 'Issue a new API key for a user (shown once), scoped to where the caller may act on the user',
          body: CreateKeyBody,
          response: ApiKeyCreated,
          status: 201,
        },
        'creating API keys',
      ),
    },
    async (request, reply) => {
      const body = parseInput(CreateKeyBody, request.body ?? {});
      const scope = body.accountId === undefined ? undefined : { accountId: body.accountId, vaId: body.vaId ?? null };
      const made = await users.createKey(request.params.userId, { name: body.name, scope }, callerOf(request));
      return reply.code(201).send(made);
    },
  );

  app.get<{ Params: { userId: string } }>(
    '/api/v1/users/:userId/api-keys',
    {
      config: adminRoute(
        'read',
        target.user(byUser()),
        {
          summary: "List a user's API keys where the caller may act on the user (never the secrets)",
          response: ApiKeyView.array(),
        },
        'listing API keys',
      ),
    },
    async (request) => users.listKeys(request.params.userId, callerOf(request)),
  );

  app.post<{ Params: { userId: string } }>(
    '/api/v1/users/:userId/password',
    {
      config: adminRoute(
        'write',
        target.user(byUserIdOrEmail()),
        {
          summary:
            'Set a user\'s portal password (:userId an id or e-mail; "admin": the owner\'s) and end their sessions',
          body: SetPasswordBody,
          response: PasswordSet,
        },
        'setting passwords',
      ),
    },
    async (request) => {
      const body = parseInput(SetPasswordBody, request.body);
      return users.setPassword(request.params.userId, body.password, callerOf(request));
    },
  );

  app.post<{ Params: { keyId: string } }>(
    '/api/v1/api-keys/:keyId/revoke',
    {
      config: adminRoute(
        'write',
        target.user(byApiKey()),
        { summary: 'Revoke an API key', response: ApiKeyView },
        'revoking API keys',
      ),
    },
    async (request) => users.revokeKey(request.params.keyId, callerOf(request)),
  );
}
