import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { publicRoute } from './route-config.js';

const Health = z.object({ status: z.literal('ok'), mode: z.enum(['authority', 'satellite']), version: z.string() });

/** Unauthenticated routes: health, and the root CA that devices pin. */
export function registerSystemRoutes(
  app: FastifyInstance,
  info: { mode: 'authority' | 'satellite'; version: string; rootCaPem: string },
): void {
  app.get(
    '/api/v1/health',
    { config: publicRoute({ summary: 'Liveness, mode and version', response: Health }) },
    async () => ({
      status: 'ok',
      mode: info.mode,
      version: info.version,
    }),
  );
  app.get(
    '/api/v1/pki/root-ca',
    {
      config: publicRoute({
        summary: 'The root CA certificate devices pin (PEM)',
        response: z.string(),
        contentType: 'text/plain',
      }),
    },
    async (_request, reply) => reply.type('text/plain; charset=utf-8').send(info.rootCaPem),
  );
}

const ServerInfo = z.object({
  mode: z.enum(['authority', 'satellite']),
  version: z.string(),
});

/**
 * `GET /api/v1/server`: what the portal needs to know of the server before anything else (its
 * mode decides whether it shows the Synchronization page). Public, like the health route.
 */
export function registerServerInfoRoute(
  app: FastifyInstance,
  info: { mode: 'authority' | 'satellite'; version: string },
): void {
  app.get(
    '/api/v1/server',
    { config: publicRoute({ summary: "The server's mode and version (for the portal)", response: ServerInfo }) },
    async () => ({ mode: info.mode, version: info.version }),
  );
}
