import { z } from 'zod';

export const CreateSatelliteBody = z.object({
  name: z.string().min(1).max(64),
  accountId: z.string().min(1).max(200),
  vaIds: z.array(z.string().min(1).max(200)).min(1).max(1000),
});

export const CreatedSatelliteView = z.object({
  id: z.string(),
  name: z.string(),
  token: z.string(),
  expiresAt: z.string(),
});

export const SatelliteListQuery = z.object({ accountId: z.string().min(1).max(200) });

export const SatelliteView = z.object({
  id: z.string(),
  name: z.string(),
  accountId: z.string(),
  vas: z.array(z.object({ id: z.string(), name: z.string() })),
  productInstances: z.number(),
  registered: z.boolean(),
  lastSyncUp: z.string().nullable(),
  lastSyncDown: z.string().nullable(),
  syncDue: z.string().nullable(),
  version: z.string().nullable(),
  certificateExpiresAt: z.string().nullable(),
  alerts: z.array(z.string()),
});

export const RemovedSatelliteView = z.object({ id: z.string(), name: z.string(), vas: z.array(z.string()) });

/** A sync document (its full shape is checked by the sync itself, `sync-format.ts`). */
export const SyncDocumentBody = z.object({
  format: z.string(),
  kind: z.string(),
  payload: z.record(z.string(), z.unknown()),
  signature: z.object({ alg: z.string(), value: z.string() }),
  certificates: z.array(z.string()).optional(),
});

export const FileSyncAnswer = z.object({
  satellite: z.string(),
  sequence: z.number(),
  applied: z.boolean(),
  response: SyncDocumentBody,
});
