import type { FastifyInstance } from 'fastify';
import { actorOf } from '../../http/route-access.js';
import { adminRoute } from '../../http/route-config.js';
import { parseInput } from '../../validation.js';
import { byVa, target } from '../access/route-targets.js';
import { AddLicenseBody, TransferLicensesBody } from './license-schemas.js';
import type { LicenseService } from './license-service.js';

/** Admin routes of license pools. */
export function registerLicenseRoutes(app: FastifyInstance, licenses: LicenseService): void {
  app.post<{ Params: { vaId: string } }>(
    '/api/v1/virtual-accounts/:vaId/licenses',
    {
      config: adminRoute('write', target.va(byVa()), {
        summary: 'Add a license pool to a VA',
        body: AddLicenseBody,
        status: 201,
      }),
    },
    async (request, reply) => {
      const body = parseInput(AddLicenseBody, request.body);
      const added = await licenses.addLicense(request.params.vaId, body, actorOf(request), {
        mayDefineTags: request.principal?.owner === true,
      });
      return reply.code(201).send(added);
    },
  );

  app.get<{ Params: { vaId: string } }>(
    '/api/v1/virtual-accounts/:vaId/licenses',
    {
      config: adminRoute('read', target.va(byVa()), {
        summary: "A VA's licenses per tag: quantity, in use, surplus, hierarchy coverage, alerts",
      }),
    },
    async (request) => licenses.listLicenses(request.params.vaId),
  );

  app.post<{ Params: { vaId: string } }>(
    '/api/v1/virtual-accounts/:vaId/licenses/transfer',
    {
      config: adminRoute('write', target.va(byVa(), { destination: byVa('toVaId', 'body') }), {
        summary: 'Transfer unused licenses of a tag to another VA of the same Smart Account',
        body: TransferLicensesBody,
      }),
    },
    async (request) => {
      const body = parseInput(TransferLicensesBody, request.body);
      return licenses.transferLicenses(request.params.vaId, body, actorOf(request));
    },
  );
}
