import type { FastifyInstance } from 'fastify';
import { authorityOnlyRoute, notOnSatellite } from '../features/mode/satellite-refusals.js';

/**
 * On a satellite, answers every authority-only admin route (`AUTHORITY_ONLY_ROUTES`) with
 * `409 NOT_ON_SATELLITE` and one sentence that says where to do it, after authentication and
 * before access control, so that the refusal changes nothing and names no one's data.
 */
export function refuseAuthorityOnlyRoutes(admin: FastifyInstance, upstream: string | undefined): void {
  admin.addHook('onRequest', async (request) => {
    const route = authorityOnlyRoute(request.method, request.routeOptions.url);
    if (route) throw notOnSatellite(route, upstream);
  });
}
