import { DAY } from '@smartlic/protocol';
import type { EventType } from '../events/event-recorder.js';

/** What the health of a satellite is judged from; times in ms since the epoch, `now` from the injected clock. */
export interface SyncHealthInput {
  now: number;
  /** The last completed synchronisation (either direction); null when it never synchronised. */
  lastSyncAt: number | null;
  /** When the next synchronisation is due (schedule); null when the schedule is off. */
  syncDueAt: number | null;
  /** When the satellite's signing certificate expires; null before registration. */
  certificateNotAfter: number | null;
  /** The last network sync's failure, on the satellite (e.g. the upstream did not answer). */
  upstreamError?: string | null;
}

/** Without any sync for this long, a satellite must synchronise (the hard deadline of SPEC §8). */
export const SYNC_DEADLINE_MS = 90 * DAY;
/** "Sync deadline in N days" shows this long before that deadline. */
export const SYNC_DEADLINE_WARNING_MS = 30 * DAY;
/** "Certificate expires in N days" shows this long before the signing certificate expires. */
export const CERTIFICATE_ALARM_MS = 60 * DAY;
/** A sync renews the signing certificate once it has less than this left. */
export const CERTIFICATE_RENEWAL_MS = 90 * DAY;

/** The health line of a satellite with nothing wrong. */
export const GOOD_HEALTH = 'Good — your machine is working well';

/** One alert of a satellite: its kind, its words (SPEC §8) and the webhook event it raises. */
export interface SatelliteAlert {
  kind: 'sync-overdue' | 'sync-deadline' | 'not-synced' | 'certificate-expiring' | 'certificate-expired';
  text: string;
  /** The alert event (`webhooks/webhook-events.ts`) the authority records when the alert starts. */
  eventType: EventType;
}

/**
 * The alerts of a satellite, in order of urgency, with their webhook event types:
 * - `Synchronization Overdue` once `now` is past `syncDueAt` (`satellite.sync-overdue`);
 * - `Sync deadline in N days` from 30 days before the 90-day deadline after the last sync,
 *   i.e. from day 60 without a sync (`satellite.sync-due`), then from day 90
 *   `No sync for 90 days` instead (`satellite.not-synced`);
 * - `Certificate expires in N days` from 60 days before the signing certificate expires
 *   (`satellite.certificate-expiring`), then `Certificate expired` (`satellite.certificate-expired`).
 * N is rounded up to whole days.
 */
export function satelliteAlertList(input: SyncHealthInput): SatelliteAlert[] {
  const { now } = input;
  const alerts: SatelliteAlert[] = [];
  if (input.certificateNotAfter !== null && input.certificateNotAfter <= now) {
    alerts.push({
      kind: 'certificate-expired',
      text: 'Certificate expired',
      eventType: 'satellite.certificate-expired',
    });
  }
  if (input.syncDueAt !== null && now > input.syncDueAt) {
    alerts.push({ kind: 'sync-overdue', text: 'Synchronization Overdue', eventType: 'satellite.sync-overdue' });
  }
  if (input.lastSyncAt !== null) {
    const deadline = input.lastSyncAt + SYNC_DEADLINE_MS;
    if (now >= deadline) {
      alerts.push({ kind: 'not-synced', text: 'No sync for 90 days', eventType: 'satellite.not-synced' });
    } else if (deadline - now <= SYNC_DEADLINE_WARNING_MS) {
      alerts.push({
        kind: 'sync-deadline',
        text: `Sync deadline in ${daysLeft(deadline - now)}`,
        eventType: 'satellite.sync-due',
      });
    }
  }
  const notAfter = input.certificateNotAfter;
  if (notAfter !== null && notAfter > now && notAfter - now <= CERTIFICATE_ALARM_MS) {
    alerts.push({
      kind: 'certificate-expiring',
      text: `Certificate expires in ${daysLeft(notAfter - now)}`,
      eventType: 'satellite.certificate-expiring',
    });
  }
  return alerts;
}

/**
 * The authority's alerts for a satellite, in SPEC §8's words: "Synchronization Overdue",
 * "Sync deadline in 30 days", "Certificate expires in N days", "No sync for 90 days" (and
 * "Certificate expired"). See {@link satelliteAlertList} for when each shows.
 */
export function satelliteAlerts(input: SyncHealthInput): string[] {
  return satelliteAlertList(input).map((a) => a.text);
}

/**
 * The satellite's own health line: `Good — your machine is working well`, or what is wrong —
 * its alerts and an unreachable upstream — joined with "; ". `alerts` lists the same.
 */
export function satelliteHealth(input: SyncHealthInput): { health: string; alerts: string[] } {
  const alerts = satelliteAlerts(input);
  if (input.upstreamError) alerts.push(`Upstream unreachable: ${input.upstreamError}`);
  return { health: alerts.length === 0 ? GOOD_HEALTH : alerts.join('; '), alerts };
}

/** Whether a sync at `now` should renew a signing certificate expiring at `notAfter` (less than 90 days left). */
export function certificateNeedsRenewal(notAfter: number, now: number): boolean {
  return notAfter - now < CERTIFICATE_RENEWAL_MS;
}

function daysLeft(ms: number): string {
  const days = Math.ceil(ms / DAY);
  return days === 1 ? '1 day' : `${days} days`;
}
