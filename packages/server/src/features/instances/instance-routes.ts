import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { actorOf } from '../../http/route-access.js';
import { adminRoute } from '../../http/route-config.js';
import { parseInput } from '../../validation.js';
import { byInstance, byVa, target } from '../access/route-targets.js';
import type { InstanceService } from './instance-service.js';

const ListQuery = z.object({
  search: z.string().trim().max(256).optional(),
  limit: z.coerce.number().int('must be a whole number').min(1).max(1000).optional(),
  cursor: z.string().max(2048).optional(),
});

const TransferBody = z.object({ toVaId: z.string().trim().min(1, 'must not be empty').max(64) });

/** Admin routes of product instances: list (search, paging), remove, transfer. */
export function registerInstanceRoutes(app: FastifyInstance, instances: InstanceService): void {
  // Without limit or cursor the answer stays a plain array (as before paging existed);
  // with either it is a page `{items, nextCursor}`.
  app.get<{ Params: { vaId: string } }>(
    '/api/v1/virtual-accounts/:vaId/instances',
    {
      config: adminRoute('read', target.va(byVa()), {
        summary: "A VA's product instances (a page {items, nextCursor} when limit or cursor is given)",
        query: ListQuery,
      }),
    },
    async (request) => {
      const query = parseInput(ListQuery, request.query ?? {});
      if (query.limit === undefined && query.cursor === undefined) {
        return instances.listInstances(request.params.vaId, query);
      }
      return instances.pageInstances(request.params.vaId, query);
    },
  );

  app.delete<{ Params: { instanceId: string } }>(
    '/api/v1/instances/:instanceId',
    {
      config: adminRoute('write', target.va(byInstance()), {
        summary: 'Remove a product instance (its usage goes back to the pool)',
      }),
    },
    async (request) => instances.removeInstance(request.params.instanceId, actorOf(request)),
  );

  app.post<{ Params: { instanceId: string } }>(
    '/api/v1/instances/:instanceId/transfer',
    {
      config: adminRoute('write', target.va(byInstance(), { destination: byVa('toVaId', 'body') }), {
        summary: 'Move a product instance and its usage to another VA of the same Smart Account',
        body: TransferBody,
      }),
    },
    async (request) => {
      const body = parseInput(TransferBody, request.body);
      return instances.transferInstance(request.params.instanceId, body.toVaId, actorOf(request));
    },
  );
}
