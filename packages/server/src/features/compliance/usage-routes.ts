import type { Clock } from '@smartlic/protocol';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { actorOf } from '../../http/route-access.js';
import { adminRoute } from '../../http/route-config.js';
import type { Logger } from '../../logger.js';
import type { Transactor } from '../../storage/transactor.js';
import { byVa, target } from '../access/route-targets.js';
import { reconcileUsageTotals } from './usage-reconcile.js';

/** The answer of a reconciliation: VAs checked, total rows repaired. */
export const ReconcileAnswer = z.object({ vas: z.number().int(), corrected: z.number().int() });

/**
 * `POST /api/v1/usage/reconcile` (owner key: every VA) and
 * `POST /api/v1/virtual-accounts/:vaId/usage/reconcile` (an admin of the VA or its account):
 * recompute the maintained usage totals from the instances' usage and repair what differs,
 * recorded as `usage.reconciled`.
 */
export function registerUsageRoutes(
  app: FastifyInstance,
  deps: { transactor: Transactor; clock: Clock; logger: Logger },
): void {
  const reconcile = (actor: string, vaId?: string) =>
    reconcileUsageTotals(deps.transactor, {
      ...(vaId === undefined ? {} : { vaId }),
      logger: deps.logger,
      record: { at: deps.clock.now(), actor },
    });
  app.post(
    '/api/v1/usage/reconcile',
    {
      config: adminRoute('admin', target.system, {
        summary: "Check every VA's usage totals against its instances' usage and repair them",
        response: ReconcileAnswer,
      }),
    },
    async (request) => reconcile(actorOf(request)),
  );
  app.post<{ Params: { vaId: string } }>(
    '/api/v1/virtual-accounts/:vaId/usage/reconcile',
    {
      config: adminRoute('admin', target.va(byVa()), {
        summary: "Check a VA's usage totals against its instances' usage and repair them",
        response: ReconcileAnswer,
      }),
    },
    async (request) => reconcile(actorOf(request), request.params.vaId),
  );
}
