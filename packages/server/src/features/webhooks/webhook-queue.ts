import type { Kysely } from 'kysely';
import type { Database } from '../../storage/schema.js';
import { toIso } from '../../util/time.js';
import { queueDeliveries } from './webhook-store.js';

/** An alert event as the event log records it. */
export interface AlertEvent {
  at: number;
  actor: string;
  type: string;
  accountId?: string | null | undefined;
  vaId?: string | null | undefined;
  detail?: Record<string, unknown> | undefined;
}

/**
 * Queues an alert for the webhooks of its Smart Account, in the transaction that records
 * the event (so an alert is queued if and only if its event commits). The account is
 * found from the VA when the event names only a VA.
 */
export async function queueAlertDeliveries(db: Kysely<Database>, event: AlertEvent): Promise<number> {
  let accountId = event.accountId ?? null;
  if (accountId === null && event.vaId) {
    const va = await db
      .selectFrom('virtual_accounts')
      .select('account_id')
      .where('id', '=', event.vaId)
      .executeTakeFirst();
    accountId = va?.account_id ?? null;
  }
  if (accountId === null) return 0;
  const account = accountId;
  return queueDeliveries(db, {
    accountId: account,
    type: event.type,
    at: event.at,
    payload: (id) => ({
      id,
      type: event.type,
      at: toIso(event.at),
      accountId: account,
      vaId: event.vaId ?? null,
      actor: event.actor,
      detail: event.detail ?? {},
    }),
  });
}
