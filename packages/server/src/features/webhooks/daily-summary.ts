import { DAY } from '@smartlic/protocol';
import type { Transaction } from 'kysely';
import type { Database } from '../../storage/schema.js';
import { toIso } from '../../util/time.js';
import { SUMMARY_EVENT_TYPE, webhookWants } from './webhook-events.js';
import { queueDeliveries } from './webhook-store.js';

/** Start of the UTC day of `ms`. */
export function dayStart(ms: number): number {
  return Math.floor(ms / DAY) * DAY;
}

/**
 * Queues the daily event summary (counts by event type over the last UTC day) once per
 * day for each Smart Account with a webhook that wants it. `webhook_summaries` remembers
 * the day last summarised, so that the job may run as often as it likes.
 */
export async function queueDailySummaries(trx: Transaction<Database>, now: number): Promise<number> {
  const until = dayStart(now);
  const hooks = await trx.selectFrom('webhooks').select(['account_id', 'events']).where('disabled', '=', 0).execute();
  const accounts = [
    ...new Set(hooks.filter((h) => webhookWants(h.events, SUMMARY_EVENT_TYPE)).map((h) => h.account_id)),
  ];
  let queued = 0;
  for (const accountId of accounts) {
    const done = await trx
      .selectFrom('webhook_summaries')
      .select('last_until')
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    if (done === undefined) {
      // First sight of this account: its first summary is of today, sent tomorrow.
      await trx.insertInto('webhook_summaries').values({ account_id: accountId, last_until: until }).execute();
      continue;
    }
    if (Number(done.last_until) >= until) continue;
    const from = Math.max(Number(done.last_until), until - DAY);
    const rows = await trx
      .selectFrom('events')
      .select(['type', (eb) => eb.fn.countAll<number>().as('count')])
      .where((eb) =>
        eb.or([
          eb('account_id', '=', accountId),
          eb('va_id', 'in', eb.selectFrom('virtual_accounts').select('id').where('account_id', '=', accountId)),
        ]),
      )
      .where('at', '>=', from)
      .where('at', '<', until)
      .groupBy('type')
      .orderBy('type')
      .execute();
    const counts = Object.fromEntries(rows.map((r) => [r.type, Number(r.count)]));
    const total = rows.reduce((n, r) => n + Number(r.count), 0);
    queued += await queueDeliveries(trx, {
      accountId,
      type: SUMMARY_EVENT_TYPE,
      at: now,
      payload: (id) => ({
        id,
        type: SUMMARY_EVENT_TYPE,
        at: toIso(now),
        accountId,
        from: toIso(from),
        until: toIso(until),
        total,
        counts,
      }),
    });
    await trx.updateTable('webhook_summaries').set({ last_until: until }).where('account_id', '=', accountId).execute();
  }
  return queued;
}
