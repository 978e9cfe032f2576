import type { FastifyInstance } from 'fastify';

/** Unauthenticated routes: health, and the root CA that devices pin. */
export function registerSystemRoutes(
  app: FastifyInstance,
  info: { mode: 'authority' | 'satellite'; version: string; rootCaPem: string },
): void {
  app.get('/api/v1/health', async () => ({ status: 'ok', mode: info.mode, version: info.version }));
  app.get('/api/v1/pki/root-ca', async (_request, reply) =>
    reply.type('text/plain; charset=utf-8').send(info.rootCaPem),
  );
}
