import type { FastifyInstance } from 'fastify';
import { actorOf } from '../../http/route-access.js';
import { adminRoute } from '../../http/route-config.js';
import { parseInput } from '../../validation.js';
import { canSeeVa, visibleAccountIds } from '../access/access-policy.js';
import { byAccount, target } from '../access/route-targets.js';
import { AccountView, CreateAccountBody, CreateVirtualAccountBody, VirtualAccountView } from './account-schemas.js';
import type { AccountService } from './account-service.js';

/** Admin routes of Smart Accounts and Virtual Accounts. */
export function registerAccountRoutes(app: FastifyInstance, accounts: AccountService): void {
  app.post(
    '/api/v1/accounts',
    {
      config: adminRoute('write', target.system, {
        summary: 'Create a Smart Account',
        body: CreateAccountBody,
        response: AccountView,
        status: 201,
      }),
    },
    async (request, reply) => {
      const body = parseInput(CreateAccountBody, request.body);
      return reply.code(201).send(await accounts.createAccount(body, actorOf(request)));
    },
  );

  // Any key may list; it sees the Smart Accounts where it holds a role (the owner key: all).
  app.get(
    '/api/v1/accounts',
    {
      config: adminRoute('read', target.any, {
        summary: 'List the Smart Accounts the key may see',
        response: AccountView.array(),
      }),
    },
    async (request) => {
      const visible = request.principal ? visibleAccountIds(request.principal) : new Set<string>();
      const all = await accounts.listAccounts();
      return visible === null ? all : all.filter((a) => visible.has(a.id));
    },
  );

  app.post<{ Params: { accountId: string } }>(
    '/api/v1/accounts/:accountId/virtual-accounts',
    {
      config: adminRoute('admin', target.account(byAccount()), {
        summary: 'Create a Virtual Account',
        body: CreateVirtualAccountBody,
        response: VirtualAccountView,
        status: 201,
      }),
    },
    async (request, reply) => {
      const body = parseInput(CreateVirtualAccountBody, request.body);
      return reply
        .code(201)
        .send(await accounts.createVirtualAccount(request.params.accountId, body, actorOf(request)));
    },
  );

  // A role on one VA suffices; the key sees the VAs it may see.
  app.get<{ Params: { accountId: string } }>(
    '/api/v1/accounts/:accountId/virtual-accounts',
    {
      config: adminRoute('read', target.account(byAccount(), { vaRolesSuffice: true }), {
        summary: "List a Smart Account's Virtual Accounts (with a role on some VAs only: those)",
        response: VirtualAccountView.array(),
      }),
    },
    async (request) => {
      const { accountId } = request.params;
      const all = await accounts.listVirtualAccounts(accountId);
      const principal = request.principal;
      return principal ? all.filter((va) => canSeeVa(principal, accountId, va.id)) : [];
    },
  );
}
