import { DEVICE_ROUTES, ERRORS, type ErrorBody } from '@smartlic/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Kysely, Migrator } from 'kysely';
import { z } from 'zod';
import { migrationProvider } from '../../storage/migrations.js';
import type { Database } from '../../storage/schema.js';
import { publicRoute } from '../route-config.js';
import { PROMETHEUS_CONTENT_TYPE } from './registry.js';
import type { ServerMetrics } from './server-metrics.js';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** Device route pattern → message type as on the wire (`renew-id`). */
const DEVICE_TYPES = new Map<string, string>(Object.values(DEVICE_ROUTES).map((url) => [url, url.split('/').pop()!]));
const Alive = z.object({ status: z.literal('ok') });
const Ready = z.object({ status: z.literal('ready'), migrations: z.number().int() });

/**
 * Operations endpoints, unauthenticated like `/api/v1/health` (they reveal counts and
 * timings, never ids or names): `GET /metrics` (Prometheus text), `GET /healthz` (alive),
 * `GET /readyz` (database answers and every migration is applied; 503 otherwise). Also
 * counts every request by its route *pattern* (a URL that matches no route counts as
 * `unmatched`), and device messages by type and outcome.
 */
export function registerOpsRoutes(app: FastifyInstance, metrics: ServerMetrics, db: Kysely<Database>): void {
  const errorCodes = new WeakMap<FastifyRequest, string>();
  // Callback hooks, not async ones: they run on every request, and a promise each costs more than the counting.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (reply.statusCode >= 400 && typeof payload === 'string' && DEVICE_TYPES.has(request.routeOptions.url ?? '')) {
      errorCodes.set(request, errorCodeOf(payload));
    }
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    countRequest(metrics, {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: reply.statusCode,
      ms: reply.elapsedTime,
      errorCode: errorCodes.get(request),
    });
    done();
  });
  app.addHook('onClose', async () => metrics.stop());

  app.get(
    '/metrics',
    {
      config: publicRoute({
        summary: 'Prometheus metrics (text exposition format 0.0.4)',
        response: z.string(),
        contentType: 'text/plain',
      }),
    },
    async (_request, reply) => reply.type(PROMETHEUS_CONTENT_TYPE).send(metrics.registry.render()),
  );
  app.get(
    '/healthz',
    { config: publicRoute({ summary: 'Alive: 200 while the process runs', response: Alive }) },
    async () => ({
      status: 'ok',
    }),
  );
  const migrator = new Migrator({ db, provider: migrationProvider });
  app.get(
    '/readyz',
    {
      config: publicRoute({ summary: 'Ready: the database answers and is migrated (503 otherwise)', response: Ready }),
    },
    async (request, reply) => {
      let reason: string;
      try {
        const migrations = await migrator.getMigrations();
        const pending = migrations.filter((m) => m.executedAt === undefined).length;
        if (pending === 0) return { status: 'ready', migrations: migrations.length };
        reason = `${pending} database migration(s) are not applied yet.`;
      } catch (error) {
        request.log.warn({ err: error }, 'Readiness check: the database does not answer');
        reason = 'The database does not answer.';
      }
      const body: ErrorBody = { code: 'SERVER_BUSY', message: `Not ready: ${reason}`, requestId: request.id };
      return reply.status(503).send(body);
    },
  );
}

/** One answered request, as {@link countRequest} counts it. */
export interface AnsweredRequest {
  method: string;
  /** The route's pattern (`unmatched` when none matched). */
  route: string;
  status: number;
  /** From the request's arrival to its answer. */
  ms: number;
  /** The `code` of the error body, when the answer was one of ours. */
  errorCode?: string | undefined;
}

/**
 * Counts an answered request by method, route pattern and status class, and its duration; a
 * device message also by type and outcome (`ok`, its error code, or `http_<status>`). The
 * fastify hooks above and the device lane (`device-lane.ts`) count through it.
 */
export function countRequest(metrics: ServerMetrics, answered: AnsweredRequest): void {
  const { route, status } = answered;
  const method = METHODS.has(answered.method) ? answered.method : 'OTHER';
  metrics.httpRequests.inc({ method, route, status_class: `${Math.floor(status / 100)}xx` });
  metrics.httpDuration.observe({ method, route }, answered.ms / 1000);
  const type = DEVICE_TYPES.get(route);
  if (type !== undefined && method === 'POST') {
    const outcome = status < 400 ? 'ok' : (answered.errorCode ?? `http_${status}`);
    metrics.deviceMessages.inc({ type, outcome });
  }
}

/** The `code` of an error body, if it is one of ours (a bounded label); else `other`. */
function errorCodeOf(payload: string): string {
  try {
    const code = (JSON.parse(payload) as { code?: unknown }).code;
    return typeof code === 'string' && Object.hasOwn(ERRORS, code) ? code : 'other';
  } catch {
    return 'other';
  }
}
