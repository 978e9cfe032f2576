import type { Kysely } from 'kysely';
import { markOnce } from '../../jobs/job-marks.js';
import type { Database } from '../../storage/schema.js';
import { recordEvent } from '../events/event-recorder.js';

/**
 * The lifecycle job's part for satellites: once per due date passed, records
 * `satellite.sync-due` ("Synchronization Overdue"), an alert event, so its webhooks are queued.
 * Returns how many satellites became overdue.
 */
export async function alertOverdueSatellites(trx: Kysely<Database>, now: number): Promise<number> {
  const rows = await trx
    .selectFrom('satellites')
    .select(['id', 'name', 'account_id', 'sync_due_at', 'last_sync_up_at'])
    .where('sync_due_at', '<', now)
    .execute();
  let count = 0;
  for (const row of rows) {
    const due = Number(row.sync_due_at);
    if (!(await markOnce(trx, 'satellite.sync-due', `${row.id}@${due}`, now))) continue;
    await recordEvent(trx, {
      at: now,
      actor: 'system',
      type: 'satellite.sync-due',
      accountId: row.account_id,
      detail: {
        satelliteId: row.id,
        name: row.name,
        alert: 'Synchronization Overdue',
        syncDue: new Date(due).toISOString(),
        lastSyncUp: row.last_sync_up_at === null ? null : new Date(Number(row.last_sync_up_at)).toISOString(),
      },
    });
    count++;
  }
  return count;
}
