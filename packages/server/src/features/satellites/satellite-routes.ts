import type { FastifyInstance } from 'fastify';
import type { RateLimiter } from '../../http/rate-limits.js';
import { actorOf } from '../../http/route-access.js';
import { adminRoute, publicRoute } from '../../http/route-config.js';
import { parseInput } from '../../validation.js';
import { byAccount, place, placeLookup, target } from '../access/route-targets.js';
import {
  CreatedSatelliteView,
  CreateSatelliteBody,
  FileSyncAnswer,
  RemovedSatelliteView,
  SatelliteListQuery,
  SatelliteView,
  SyncDocumentBody,
} from './satellite-schemas.js';
import type { SatelliteService } from './satellite-service.js';

/**
 * The largest sync document accepted: 384 MiB. A full sync of 1,000,000 instances is about
 * 320 MiB (`smartlic-sync/2`: ~330 bytes an instance with a P-256 key and two licenses in use),
 * with room left for the events of the same request. Registration requests, a token and a
 * key, keep the default limit of every other route (`BODY_LIMIT_BYTES`).
 */
export const SYNC_BODY_LIMIT_BYTES = 384 * 1024 * 1024;

const bySatellite = () =>
  placeLookup('satelliteId', 'Satellite', async (db, id) => {
    const row = await db.selectFrom('satellites').select('account_id').where('id', '=', id).executeTakeFirst();
    return row && place(row.account_id);
  });

/** Admin routes of satellites (on the authority, or a satellite that serves satellites). */
export function registerSatelliteRoutes(app: FastifyInstance, satellites: SatelliteService): void {
  app.post(
    '/api/v1/satellites',
    {
      config: adminRoute('admin', target.account(byAccount('accountId', 'body')), {
        summary: 'Create a satellite serving VAs of a Smart Account; answers its one-time registration token',
        body: CreateSatelliteBody,
        response: CreatedSatelliteView,
        status: 201,
      }),
    },
    async (request, reply) => {
      const body = parseInput(CreateSatelliteBody, request.body ?? {});
      return reply.code(201).send(await satellites.create(body, actorOf(request)));
    },
  );

  app.get(
    '/api/v1/satellites',
    {
      config: adminRoute('read', target.account(byAccount('accountId', 'query')), {
        summary: "List a Smart Account's satellites with their health and alerts",
        query: SatelliteListQuery,
        response: SatelliteView.array(),
      }),
    },
    async (request) => satellites.list(parseInput(SatelliteListQuery, request.query).accountId),
  );

  app.delete<{ Params: { satelliteId: string } }>(
    '/api/v1/satellites/:satelliteId',
    {
      config: adminRoute('admin', target.account(bySatellite()), {
        summary: 'Remove a satellite: its VAs are served here again',
        response: RemovedSatelliteView,
      }),
    },
    async (request) => satellites.remove(request.params.satelliteId, actorOf(request)),
  );

  app.post(
    '/api/v1/satellites/file-sync',
    {
      bodyLimit: SYNC_BODY_LIMIT_BYTES,
      config: adminRoute('admin', target.system, {
        summary: 'Answer a satellite’s registration or sync request file (File Sync…)',
        body: SyncDocumentBody,
        response: FileSyncAnswer,
      }),
    },
    async (request) => satellites.fileSync(request.body ?? null),
  );
}

/**
 * The endpoints satellites call over the network. They need no API key: every document is
 * signed (registration by the key it registers, with a one-time token; syncs by the registered key).
 */
export function registerSatelliteSyncRoutes(
  app: FastifyInstance,
  satellites: SatelliteService,
  limits: Pick<RateLimiter, 'satelliteSync' | 'satelliteSyncPerSatellite'>,
): void {
  app.post(
    '/api/v1/satellite-sync/register',
    {
      // Per address before the body is read; the registration's body is small (the default limit).
      onRequest: limits.satelliteSync,
      config: publicRoute({
        summary: 'A satellite registers (signed request with its one-time token)',
        body: SyncDocumentBody,
        response: SyncDocumentBody,
      }),
    },
    async (request) => (await satellites.register(request.body ?? null)).response,
  );
  app.post(
    '/api/v1/satellite-sync/sync',
    {
      bodyLimit: SYNC_BODY_LIMIT_BYTES,
      // Per address before the body is read (a flood never gets parsed), per satellite after.
      onRequest: limits.satelliteSync,
      preHandler: limits.satelliteSyncPerSatellite,
      config: publicRoute({
        summary: 'A satellite synchronises (signed, numbered request; answered once, again on a re-send)',
        body: SyncDocumentBody,
        response: SyncDocumentBody,
      }),
    },
    async (request) => (await satellites.sync(request.body ?? null)).response,
  );
}
