import type { z } from 'zod';
import type { AccessAction, RouteAccess } from '../features/access/access-policy.js';
import type { RouteTarget } from '../features/access/route-targets.js';

/**
 * How a route appears in the OpenAPI document (`GET /api/v1/openapi.json`). Schemas are
 * the zod schemas the route parses with, or describe its answer; path parameters come from
 * the URL.
 */
export interface RouteDoc {
  summary: string;
  body?: z.ZodType;
  query?: z.ZodType;
  response?: z.ZodType;
  /** Status of a successful answer; default 200. */
  status?: number;
  /** Media type of a successful answer; default application/json. */
  contentType?: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Required on every admin route: who may call it (see features/access). */
    access?: RouteAccess;
    /** Required on every route: its OpenAPI description. */
    doc?: RouteDoc;
  }
}

/**
 * The `config` of an admin route: who may call it, on what, and how it appears in the OpenAPI
 * document, e.g.
 * `app.post(url, { config: adminRoute('write', target.va(byVa()), { summary: 'Add a license pool', body: AddLicenseBody }) }, handler)`.
 * The target says how the request names what it is about (see features/access/route-targets.ts);
 * a target naming a URL parameter the route lacks refuses to start.
 */
export function adminRoute(
  action: AccessAction,
  target: RouteTarget,
  doc: RouteDoc,
  what?: string,
): { access: RouteAccess; doc: RouteDoc } {
  return { access: { action, target, ...(what === undefined ? {} : { what }) }, doc };
}

/** The `config` of a route that needs no API key (health, root CA, device messages). */
export function publicRoute(doc: RouteDoc): { doc: RouteDoc } {
  return { doc };
}
