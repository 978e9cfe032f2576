import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { RegistrationStatements } from '../../storage/registration-statements.js';
import type { Database, EventRow } from '../../storage/schema.js';
import { isAlertEvent } from '../webhooks/webhook-events.js';
import { queueAlertDeliveries } from '../webhooks/webhook-queue.js';

/**
 * Kinds of event the authority records (SPEC §2). Extend this union as features are
 * added; the type is stored as text.
 */
export type EventType =
  | 'account.created'
  | 'va.created'
  | 'license.added'
  | 'license.expiring'
  | 'license.expired'
  | 'license.transferred'
  | 'tag.defined'
  | 'token.created'
  | 'token.revoked'
  | 'token.used'
  | 'token.expired'
  | 'instance.registered'
  | 'instance.renewed'
  | 'instance.usage-changed'
  | 'instance.compliance-changed'
  | 'instance.silent'
  | 'instance.usage-released'
  | 'instance.removed'
  | 'instance.transferred'
  | 'instance.deregistered'
  | 'va.reservation-settings'
  | 'reservation.created'
  | 'reservation.updated'
  | 'reservation.confirmed'
  | 'reservation.returned'
  | 'pak.imported'
  | 'pak.converted'
  | 'conversion.device-led'
  | 'conversion.device-requested'
  | 'conversion.device-pending'
  | 'conversion.device-approved'
  | 'conversion.device-rejected'
  | 'conversion.device-refused'
  | 'va.conversion-settings'
  | 'webhook.added'
  | 'webhook.removed'
  | 'satellite.sync-due'
  | 'satellite.created'
  | 'satellite.registered'
  | 'satellite.synced'
  | 'satellite.removed'
  | 'sync.registered'
  | 'sync.applied'
  | 'satellite.sync-overdue'
  | 'satellite.not-synced'
  | 'satellite.certificate-expiring'
  | 'satellite.certificate-expired'
  | 'user.created'
  | 'user.role-granted'
  | 'user.role-removed'
  | 'api-key.created'
  | 'api-key.revoked'
  | 'access.denied'
  | 'registration.refused'
  | 'instance.takeover-refused'
  | 'session.signed-in'
  | 'session.signed-out'
  | 'session.sign-in-failed'
  | 'user.password-set'
  | 'user.password-refused'
  | 'usage.reconciled'
  | 'instance.trusted'
  | 'usage.reported'
  | 'policy.set'
  | 'slac.issued'
  | 'slac.returned';

/** Who acted: a user (`user:<email>`), an API key (`key:<name>`), a device (`device:<instanceId>`), or `system` (jobs). */
export type Actor = string;

/** What {@link recordEvent} stores. */
export interface EventInput {
  at: number;
  actor: Actor;
  type: EventType;
  accountId?: string | null;
  vaId?: string | null;
  detail?: Record<string, unknown>;
}

/**
 * Appends one event to the log. Call it with the transaction of the change it describes,
 * so that the change and its record commit together or not at all. An alert (see
 * `webhooks/webhook-events.ts`) also queues its webhook deliveries in that transaction.
 */
export async function recordEvent(db: Kysely<Database> | Transaction<Database>, event: EventInput): Promise<void> {
  await db.insertInto('events').values(eventRow(event)).execute();
  if (isAlertEvent(event.type)) await queueAlertDeliveries(db, event);
}

/**
 * {@link recordEvent} with the event's row written by the prepared statement of the device path
 * (`DeviceStatements.insertEvent`, ADR 0021): the same row, and the same alert deliveries.
 */
export async function recordEventPrepared(
  statements: Pick<RegistrationStatements, 'insertEvent'>,
  trx: Transaction<Database>,
  event: EventInput,
): Promise<void> {
  await statements.insertEvent(trx, eventRow(event));
  if (isAlertEvent(event.type)) await queueAlertDeliveries(trx, event);
}

/** The row of the event log that records `event`, with a new sortable id. */
export function eventRow(event: EventInput): EventRow {
  return {
    id: sortableEventId(),
    at: event.at,
    actor: event.actor,
    type: event.type,
    account_id: event.accountId ?? null,
    va_id: event.vaId ?? null,
    detail: JSON.stringify(event.detail ?? {}),
  };
}

let lastMs = 0;
let sequence = 0;

/**
 * Event ids sort in the order events were recorded (the log's cursor pages by time, then
 * id, and one transaction often records several events at the same clock time): wall-clock
 * milliseconds, a sequence within the millisecond, and random bits against collisions
 * between processes.
 */
export function sortableEventId(): string {
  const ms = Date.now();
  if (ms > lastMs) {
    lastMs = ms;
    sequence = 0;
  } else {
    sequence++;
  }
  const random = randomUUID().replace(/-/g, '').slice(0, 12);
  return `${lastMs.toString(16).padStart(12, '0')}-${sequence.toString(16).padStart(6, '0')}-${random}`;
}
