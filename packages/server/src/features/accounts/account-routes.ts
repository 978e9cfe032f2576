import type { FastifyInstance } from 'fastify';
import { parseInput } from '../../validation.js';
import { CreateAccountBody, CreateVirtualAccountBody } from './account-schemas.js';
import type { AccountService } from './account-service.js';

/** Admin routes of Smart Accounts and Virtual Accounts. */
export function registerAccountRoutes(app: FastifyInstance, accounts: AccountService): void {
  app.post('/api/v1/accounts', async (request, reply) => {
    const body = parseInput(CreateAccountBody, request.body);
    return reply.code(201).send(await accounts.createAccount(body));
  });

  app.get('/api/v1/accounts', async () => accounts.listAccounts());

  app.post<{ Params: { accountId: string } }>(
    '/api/v1/accounts/:accountId/virtual-accounts',
    async (request, reply) => {
      const body = parseInput(CreateVirtualAccountBody, request.body);
      return reply.code(201).send(await accounts.createVirtualAccount(request.params.accountId, body));
    },
  );

  app.get<{ Params: { accountId: string } }>('/api/v1/accounts/:accountId/virtual-accounts', async (request) =>
    accounts.listVirtualAccounts(request.params.accountId),
  );
}
