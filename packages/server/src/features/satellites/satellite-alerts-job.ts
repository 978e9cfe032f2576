import type { Kysely } from 'kysely';
import { markOnce } from '../../jobs/job-marks.js';
import type { Database } from '../../storage/schema.js';
import { recordEvent } from '../events/event-recorder.js';
import { type SatelliteAlert, satelliteAlertList } from './satellite-health.js';

/**
 * The lifecycle job's part for satellites: each alert of each registered satellite (SPEC §8,
 * `satellite-health.ts`) is recorded once, as its alert event, when it starts — so its webhooks
 * are queued in that transaction. "Once" is per alert and per what it is about: the due date
 * passed, the last sync, the certificate. Returns how many alerts started.
 */
export async function alertSatellites(trx: Kysely<Database>, now: number): Promise<number> {
  const rows = await trx
    .selectFrom('satellites')
    .select(['id', 'name', 'account_id', 'sync_due_at', 'last_sync_up_at', 'certificate_not_after'])
    .where('registered_at', 'is not', null)
    .execute();
  let count = 0;
  const num = (v: number | null) => (v === null ? null : Number(v));
  for (const row of rows) {
    const input = {
      now,
      lastSyncAt: num(row.last_sync_up_at),
      syncDueAt: num(row.sync_due_at),
      certificateNotAfter: num(row.certificate_not_after),
    };
    for (const alert of satelliteAlertList(input)) {
      const subject = `${row.id}@${anchorOf(alert, input)}`;
      if (!(await markOnce(trx, `satellite.${alert.kind}`, subject, now))) continue;
      await recordEvent(trx, {
        at: now,
        actor: 'system',
        type: alert.eventType,
        accountId: row.account_id,
        detail: {
          satelliteId: row.id,
          name: row.name,
          alert: alert.text,
          syncDue: iso(input.syncDueAt),
          lastSyncUp: iso(input.lastSyncAt),
          certificateExpiresAt: iso(input.certificateNotAfter),
        },
      });
      count++;
    }
  }
  return count;
}

/** What an alert is about: it is raised again only when that changes (a new due date, a new sync, a new certificate). */
function anchorOf(
  alert: SatelliteAlert,
  input: { lastSyncAt: number | null; syncDueAt: number | null; certificateNotAfter: number | null },
): number | null {
  switch (alert.kind) {
    case 'sync-overdue':
      return input.syncDueAt;
    case 'sync-deadline':
    case 'not-synced':
      return input.lastSyncAt;
    default:
      return input.certificateNotAfter;
  }
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
