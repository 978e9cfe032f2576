/** Event types that are alerts (SPEC §9 Notifications): each queues a delivery to the account's webhooks. */
export const ALERT_EVENT_TYPES = [
  'instance.compliance-changed',
  'instance.silent',
  'license.expiring',
  'license.expired',
  /** A satellite's sync deadline (90 days after its last sync) is 30 days away or less. */
  'satellite.sync-due',
  /** A satellite is past its scheduled sync ("Synchronization Overdue"). */
  'satellite.sync-overdue',
  /** A satellite has not synchronised for 90 days. */
  'satellite.not-synced',
  /** A satellite's signing certificate expires within 60 days. */
  'satellite.certificate-expiring',
  /** A satellite's signing certificate has expired: its devices fall back to evaluation. */
  'satellite.certificate-expired',
  /** Licenses a device reported wait for an admin of the VA to approve or reject them. */
  'conversion.device-pending',
] as const;

/** The daily event summary's type. */
export const SUMMARY_EVENT_TYPE = 'summary.daily';
/** A delivery asked for by `POST /webhooks/:webhookId/test`. */
export const TEST_EVENT_TYPE = 'webhook.test';

/** What a webhook may subscribe to; an empty filter means all of them. */
export const WEBHOOK_EVENT_TYPES = [...ALERT_EVENT_TYPES, SUMMARY_EVENT_TYPE] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

const ALERTS: ReadonlySet<string> = new Set(ALERT_EVENT_TYPES);

/** Whether an event of this type is an alert. */
export function isAlertEvent(type: string): boolean {
  return ALERTS.has(type);
}

/** Whether a webhook whose filter is `events` (JSON array; empty = all) wants `type`. Test pings always go. */
export function webhookWants(events: string, type: string): boolean {
  if (type === TEST_EVENT_TYPE) return true;
  const list = JSON.parse(events) as string[];
  return list.length === 0 || list.includes(type);
}
