import { ManualClock } from '@smartlic/protocol';
import { describe, expect, it } from 'vitest';
import { POSTGRES_BACKUP_MESSAGE, takeBackup } from './backup-service.js';

describe('takeBackup', () => {
  it('refuses a PostgreSQL-backed server with the pg_dump advice and what else to keep', async () => {
    await expect(takeBackup({ engine: 'postgres', dataDir: '/nonexistent' }, new ManualClock())).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: POSTGRES_BACKUP_MESSAGE,
    });
    expect(POSTGRES_BACKUP_MESSAGE).toMatch(/pg_dump.*pki\/, secrets\.key, admin-api-key and admin-password/);
  });
});
