import type { Clock } from '@smartlic/protocol';
import type { FastifyInstance } from 'fastify';
import { target } from '../features/access/route-targets.js';
import { adminRoute } from '../http/route-config.js';
import { type JobDeps, runJobsOnce } from './run-jobs.js';

/** `POST /api/v1/jobs/run`: runs every background job now (as of the server's clock). */
export function registerJobRoutes(app: FastifyInstance, deps: JobDeps & { clock: Clock }): void {
  app.post(
    '/api/v1/jobs/run',
    { config: adminRoute('admin', target.system, { summary: 'Run every background job now, as of the server clock' }) },
    async () => runJobsOnce(deps, deps.clock.now()),
  );
}
