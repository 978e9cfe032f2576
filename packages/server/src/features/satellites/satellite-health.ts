import { DAY } from '@smartlic/protocol';

// Placeholder of the health functions sat-serve writes (same signatures); replaced at merge.

export interface SyncHealthInput {
  now: number;
  lastSyncAt: number | null;
  syncDueAt: number | null;
  certificateNotAfter: number | null;
  upstreamError?: string | null;
}

/** The authority's alerts for a satellite, SPEC §8 words. */
export function satelliteAlerts(input: SyncHealthInput): string[] {
  const { now } = input;
  const alerts: string[] = [];
  if (input.syncDueAt !== null && now > input.syncDueAt) alerts.push('Synchronization Overdue');
  else if (input.syncDueAt !== null && input.syncDueAt - now <= 30 * DAY) alerts.push('Sync deadline in 30 days');
  if (input.certificateNotAfter !== null && input.certificateNotAfter - now <= 60 * DAY) {
    alerts.push(`Certificate expires in ${Math.max(0, Math.ceil((input.certificateNotAfter - now) / DAY))} days`);
  }
  if (input.lastSyncAt !== null && now - input.lastSyncAt >= 90 * DAY) alerts.push('No sync for 90 days');
  return alerts;
}

/** The satellite's own health line. */
export function satelliteHealth(input: SyncHealthInput): { health: string; alerts: string[] } {
  const alerts = satelliteAlerts(input);
  if (input.upstreamError) alerts.push(`Upstream unreachable: ${input.upstreamError}`);
  return { health: alerts.length === 0 ? 'Good — your machine is working well' : alerts.join('; '), alerts };
}
