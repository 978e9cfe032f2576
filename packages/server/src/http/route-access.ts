import type { FastifyRequest } from 'fastify';
import type { AccessAction, AccessScope, RouteAccess } from '../features/access/access-policy.js';
import { actorOfPrincipal } from '../features/api-keys/api-key-service.js';
import type { Actor } from '../features/events/event-recorder.js';
import type { RouteDoc } from './route-config.js';

/**
 * The `config` of an admin route: who may call it and, for the OpenAPI document, what it is,
 * e.g. `{ config: access('write', 'va', { summary: 'Add a license pool', body: AddLicenseBody }) }`.
 * Same as `adminRoute` of route-config.ts.
 */
export function access(
  action: AccessAction,
  scope: AccessScope,
  doc?: RouteDoc,
): { access: RouteAccess; doc?: RouteDoc } {
  return { access: { action, scope }, ...(doc === undefined ? {} : { doc }) };
}

/** The event-log actor of an admin request: `user:<email>`, or `key:<name>` for the owner key. */
export function actorOf(request: FastifyRequest): Actor {
  return actorOfPrincipal(request.principal);
}
