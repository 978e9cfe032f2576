import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { adminRoute } from '../../http/route-config.js';
import { parseInput } from '../../validation.js';
import { target } from '../access/route-targets.js';
import { SYNC_BODY_LIMIT_BYTES } from '../satellites/satellite-routes.js';
import { SyncDocumentBody } from '../satellites/satellite-schemas.js';
import type { SyncService } from './sync-service.js';

const RegisterBody = z.object({
  token: z.string().min(1).max(200),
  upstream: z.url().max(2000).optional(),
  /** true: write a registration request file instead of calling the upstream. */
  file: z.boolean().optional(),
});
const FullBody = z.object({ full: z.boolean().optional() });
const ScheduleBody = z.object({ days: z.number().int().min(1).max(3650).nullable() });

const Counts = z.record(z.string(), z.union([z.number(), z.boolean()]));
const SyncNowAnswer = z.object({ sequence: z.number(), full: z.boolean(), up: Counts, down: Counts });
const ExportAnswer = z.object({ file: z.string(), sequence: z.number(), kind: z.string(), document: SyncDocumentBody });
const ImportAnswer = z.object({ kind: z.string(), sequence: z.number(), applied: z.boolean(), down: Counts });
const StatusAnswer = z.object({
  name: z.string().nullable(),
  satelliteId: z.string().nullable(),
  upstream: z.string().nullable(),
  registered: z.boolean(),
  vas: z.array(z.object({ id: z.string(), name: z.string() })),
  health: z.string(),
  lastSyncUp: z.string().nullable(),
  lastSyncDown: z.string().nullable(),
  syncDue: z.string().nullable(),
  nextScheduledSync: z.string().nullable(),
  scheduleDays: z.number().nullable(),
  certificateExpiresAt: z.string().nullable(),
  pendingRequest: z.number().nullable(),
  lastError: z.string().nullable(),
  alerts: z.array(z.string()),
});

/** The satellite's own sync routes (owner key): register, now, export, import, schedule, status. */
export function registerSyncRoutes(app: FastifyInstance, sync: SyncService): void {
  app.post(
    '/api/v1/sync/register',
    {
      config: adminRoute('admin', target.system, {
        summary: 'Register this satellite with a satellite token (network, or a request file)',
        body: RegisterBody,
        response: z.object({
          registered: z.boolean(),
          name: z.string().optional(),
          satelliteId: z.string().optional(),
          file: z.string().optional(),
          document: SyncDocumentBody.optional(),
        }),
      }),
    },
    async (request) => sync.register(parseInput(RegisterBody, request.body ?? {})),
  );
  app.post(
    '/api/v1/sync/now',
    {
      config: adminRoute('admin', target.system, {
        summary: 'Synchronise with the upstream now (standard, or full)',
        body: FullBody,
        response: SyncNowAnswer,
      }),
    },
    async (request) => sync.syncNow(parseInput(FullBody, request.body ?? {}).full ?? false),
  );
  app.post(
    '/api/v1/sync/export',
    {
      config: adminRoute('admin', target.system, {
        summary: 'The request file to carry to the upstream (the one waiting, or a new one)',
        body: FullBody,
        response: ExportAnswer,
      }),
    },
    async (request, reply) => {
      const { documentText, ...answer } = await sync.exportRequest(
        parseInput(FullBody, request.body ?? {}).full ?? false,
      );
      // The document's text as stored, not parsed and written again (a full sync's is tens of MB).
      const head = JSON.stringify(answer).slice(0, -1);
      return reply.type('application/json; charset=utf-8').send(`${head},"document":${documentText}}`);
    },
  );
  app.post(
    '/api/v1/sync/import',
    {
      bodyLimit: SYNC_BODY_LIMIT_BYTES,
      config: adminRoute('admin', target.system, {
        summary: 'Load a response file from the upstream (registration or sync)',
        body: SyncDocumentBody,
        response: ImportAnswer,
      }),
    },
    async (request) => sync.importResponse(request.body ?? null),
  );
  app.post(
    '/api/v1/sync/schedule',
    {
      config: adminRoute('admin', target.system, {
        summary: 'Set the network sync schedule: every N days, or off (null)',
        body: ScheduleBody,
        response: z.object({ scheduleDays: z.number().nullable() }),
      }),
    },
    async (request) => sync.schedule(parseInput(ScheduleBody, request.body ?? {}).days),
  );
  app.get(
    '/api/v1/sync/status',
    {
      config: adminRoute('read', target.system, {
        summary: "This satellite's sync status, health and alerts",
        response: StatusAnswer,
      }),
    },
    async () => sync.status(),
  );
}
