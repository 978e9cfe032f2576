import type { FastifyInstance } from 'fastify';
import { parseInput } from '../../validation.js';
import { AddLicenseBody } from './license-schemas.js';
import type { LicenseService } from './license-service.js';

/** Admin routes of license pools. */
export function registerLicenseRoutes(app: FastifyInstance, licenses: LicenseService): void {
  app.post<{ Params: { vaId: string } }>('/api/v1/virtual-accounts/:vaId/licenses', async (request, reply) => {
    const body = parseInput(AddLicenseBody, request.body);
    return reply.code(201).send(await licenses.addLicense(request.params.vaId, body));
  });

  app.get<{ Params: { vaId: string } }>('/api/v1/virtual-accounts/:vaId/licenses', async (request) =>
    licenses.listLicenses(request.params.vaId),
  );
}
