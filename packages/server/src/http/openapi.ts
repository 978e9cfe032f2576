import type { FastifyInstance, RouteOptions } from 'fastify';
import { z } from 'zod';
import type { AccessAction, AccessScope, RouteAccess } from '../features/access/access-policy.js';
import { describeLookups } from '../features/access/route-targets.js';
import { SERVER_VERSION } from '../version.js';
import type { RouteDoc } from './route-config.js';

/** One served route, as the OpenAPI document sees it. */
export interface ServedRoute {
  method: string;
  url: string;
  doc: RouteDoc | undefined;
  /** The access rule of an admin route; undefined for public routes. */
  access: AccessDescription | undefined;
}

/**
 * The JSON form of an admin route's access rule (`x-smartlic-access`): the action, the scope,
 * and where the request names its target, e.g. `{ action: 'write', scope: 'va', from: ['params.instanceId'] }`.
 */
export interface AccessDescription {
  action: AccessAction;
  scope: AccessScope;
  what?: string;
  from?: string[];
  destination?: string;
  vaRolesSuffice?: boolean;
}

/** The JSON form of `access`, for the OpenAPI document. */
export function describeAccess(access: RouteAccess): AccessDescription {
  const t = access.target;
  return {
    action: access.action,
    scope: t.scope,
    ...(access.what === undefined ? {} : { what: access.what }),
    ...describeLookups(t),
    ...((t.scope === 'account' || t.scope === 'va') && t.vaRolesSuffice ? { vaRolesSuffice: true } : {}),
  };
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route served (HEAD twins left out), as registered: what the OpenAPI document is checked against. */
    routeTable: readonly ServedRoute[];
  }
}

/**
 * Records every route registered on `app` from now on (call it before registering any);
 * HEAD twins of GET routes are left out.
 */
export function collectRoutes(app: FastifyInstance): ServedRoute[] {
  const routes: ServedRoute[] = [];
  app.decorate('routeTable', routes);
  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const config = (route.config ?? {}) as { doc?: RouteDoc; access?: RouteAccess };
    for (const method of methods) {
      if (method === 'HEAD') continue;
      routes.push({
        method,
        url: route.url,
        doc: config.doc,
        access: config.access ? describeAccess(config.access) : undefined,
      });
    }
  });
  return routes;
}

export const OPENAPI_PATH = '/api/v1/openapi.json';

/** Serves the OpenAPI 3.1 document of `routes` (built once, on the first request). */
export function registerOpenApiRoute(app: FastifyInstance, routes: readonly ServedRoute[]): void {
  let document: unknown;
  app.get(OPENAPI_PATH, { config: { doc: { summary: 'This OpenAPI 3.1 document' } } }, async () => {
    document ??= buildOpenApiDocument(routes);
    return document;
  });
}

const ERROR = {
  type: 'object',
  required: ['code', 'message', 'requestId'],
  properties: {
    code: { type: 'string' },
    message: { type: 'string' },
    requestId: { type: 'string' },
    fields: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } },
  },
};

/** OpenAPI 3.1 out of the routes' `config.doc`; a route without one is left out (and the route test fails). */
export function buildOpenApiDocument(routes: readonly ServedRoute[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    if (!route.doc) continue;
    const path = toOpenApiPath(route.url);
    const operation = operationOf(route, route.doc);
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'smartlic authority API', version: SERVER_VERSION },
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'an API key (slk_…)' },
        portalSession: {
          type: 'apiKey',
          in: 'cookie',
          name: 'smartlic_session',
          description:
            'the portal session of POST /api/v1/session; other methods than GET/HEAD also need the X-CSRF-Token header',
        },
      },
      schemas: { Error: ERROR },
    },
    paths,
  };
}

/** `/a/:id/b` → `/a/{id}/b`. */
export function toOpenApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function operationOf(route: ServedRoute, doc: RouteDoc): Record<string, unknown> {
  const parameters: unknown[] = [...route.url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  if (doc.query) {
    const schema = jsonSchema(doc.query, 'input') as { properties?: Record<string, unknown>; required?: string[] };
    for (const [name, property] of Object.entries(schema.properties ?? {})) {
      parameters.push({ name, in: 'query', required: schema.required?.includes(name) ?? false, schema: property });
    }
  }
  const status = String(doc.status ?? 200);
  const contentType = doc.contentType ?? 'application/json';
  const errorContent = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };
  return {
    summary: doc.summary,
    ...(route.access ? { security: [{ apiKey: [] }, { portalSession: [] }], 'x-smartlic-access': route.access } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(doc.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(doc.body, 'input') } } } }
      : {}),
    responses: {
      [status]: {
        description: doc.summary,
        content: { [contentType]: { schema: doc.response ? jsonSchema(doc.response, 'output') : {} } },
      },
      ...(route.access
        ? {
            401: { description: 'no valid API key or portal session', content: errorContent },
            403: { description: 'the key’s roles on the target do not allow this', content: errorContent },
            404: {
              description: 'the target does not exist, or the key holds no role there (the same answer)',
              content: errorContent,
            },
          }
        : {}),
      default: { description: 'an error', content: errorContent },
    },
  };
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return rest;
}
