import type { Clock } from '@smartlic/protocol';
import type { FastifyInstance } from 'fastify';
import { adminRoute } from '../../http/route-config.js';
import { target } from '../access/route-targets.js';
import { type BackupSource, takeBackup } from './backup-service.js';

/** The media type of a backup archive. */
export const BACKUP_MEDIA_TYPE = 'application/vnd.smartlic.backup';

/**
 * `POST /api/v1/backup` (owner only): streams a consistent backup archive of the database with
 * pki/, secrets.key, admin-api-key and admin-password. It holds private keys: only the owner key may take it.
 */
export function registerBackupRoutes(app: FastifyInstance, deps: { source: BackupSource; clock: Clock }): void {
  app.post(
    '/api/v1/backup',
    {
      config: adminRoute('admin', target.system, {
        summary:
          'Take a backup: the database (copied online), pki/, secrets.key, admin-api-key and admin-password, as one archive',
        contentType: BACKUP_MEDIA_TYPE,
      }),
    },
    async (request, reply) => {
      const backup = await takeBackup(deps.source, deps.clock);
      request.log.info({ bytes: backup.bytes, files: backup.entries.map((e) => e.path) }, 'backup taken');
      return reply
        .header('content-type', BACKUP_MEDIA_TYPE)
        .header('content-length', String(backup.bytes))
        .header('content-disposition', 'attachment; filename="smartlic.backup"')
        .header('cache-control', 'no-store')
        .send(backup.stream);
    },
  );
}
