import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../storage/schema.js';

/**
 * Kinds of event the authority records (SPEC §2). Extend this union as features are
 * added; the type is stored as text.
 */
export type EventType =
  | 'account.created'
  | 'va.created'
  | 'license.added'
  | 'license.expired'
  | 'license.transferred'
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
  | 'reservation.created'
  | 'reservation.updated'
  | 'reservation.confirmed'
  | 'reservation.returned'
  | 'pak.imported'
  | 'pak.converted'
  | 'conversion.device-led'
  | 'user.created'
  | 'access.denied';

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
 * so that the change and its record commit together or not at all.
 */
export async function recordEvent(db: Kysely<Database> | Transaction<Database>, event: EventInput): Promise<void> {
  await db
    .insertInto('events')
    .values({
      id: randomUUID(),
      at: event.at,
      actor: event.actor,
      type: event.type,
      account_id: event.accountId ?? null,
      va_id: event.vaId ?? null,
      detail: JSON.stringify(event.detail ?? {}),
    })
    .execute();
}
