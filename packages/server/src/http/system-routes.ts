import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { PkiHolder } from '../features/pki/pki-holder.js';
import { publicRoute } from './route-config.js';

const Health = z.object({ status: z.literal('ok'), mode: z.enum(['authority', 'satellite']), version: z.string() });

/** Unauthenticated routes: health, and the root CA that devices pin (503 on a satellite not registered yet). */
export function registerSystemRoutes(
  app: FastifyInstance,
  info: { mode: 'authority' | 'satellite'; version: string; pki: PkiHolder },
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
    async (_request, reply) => reply.type('text/plain; charset=utf-8').send(info.pki.current().rootCaPem),
  );
}
