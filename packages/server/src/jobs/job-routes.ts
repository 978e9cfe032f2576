import type { Clock } from '@smartlic/protocol';
import type { FastifyInstance } from 'fastify';
import { access } from '../http/route-access.js';
import { type JobDeps, runJobsOnce } from './run-jobs.js';

/** `POST /api/v1/jobs/run`: runs every background job now (as of the server's clock). */
export function registerJobRoutes(app: FastifyInstance, deps: JobDeps & { clock: Clock }): void {
  app.post(
    '/api/v1/jobs/run',
    { config: access('admin', 'system', { summary: 'Run every background job now, as of the server clock' }) },
    async () => runJobsOnce(deps, deps.clock.now()),
  );
}
