import type { FastifyInstance } from 'fastify';
import type { InstanceService } from './instance-service.js';

/** Admin routes of product instances. */
export function registerInstanceRoutes(app: FastifyInstance, instances: InstanceService): void {
  app.get<{ Params: { vaId: string } }>('/api/v1/virtual-accounts/:vaId/instances', async (request) =>
    instances.listInstances(request.params.vaId),
  );
}
