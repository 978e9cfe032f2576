import { type Kysely, sql } from 'kysely';
import type { Database, EventRow } from '../../storage/schema.js';

/** Filters of an event list; `before` is the position of the last event already seen. */
export interface EventQuery {
  accountId?: string;
  vaId?: string;
  /** Only events of no Smart Account and no VA (system-wide ones). */
  systemOnly?: boolean;
  types?: readonly string[];
  actor?: string;
  since?: number;
  until?: number;
  before?: { at: number; id: string };
  limit: number;
}

/** Events newest first (by time, then id), after `before`. */
export async function listEvents(db: Kysely<Database>, q: EventQuery): Promise<EventRow[]> {
  let query = db.selectFrom('events').selectAll();
  if (q.vaId !== undefined) query = query.where('va_id', '=', q.vaId);
  if (q.systemOnly) query = query.where('account_id', 'is', null).where('va_id', 'is', null);
  if (q.accountId !== undefined) {
    // Events recorded with their VA only (the device paths) belong to the VA's account too.
    const accountId = q.accountId;
    query = query.where((eb) =>
      eb.or([
        eb('account_id', '=', accountId),
        eb('va_id', 'in', eb.selectFrom('virtual_accounts').select('id').where('account_id', '=', accountId)),
      ]),
    );
  }
  if (q.types && q.types.length > 0) query = query.where('type', 'in', [...q.types]);
  if (q.actor !== undefined) query = query.where('actor', '=', q.actor);
  if (q.since !== undefined) query = query.where('at', '>=', q.since);
  if (q.until !== undefined) query = query.where('at', '<', q.until);
  if (q.before) {
    const { at, id } = q.before;
    // `at <= …` first: a range read of the (…, at, id) index from the cursor back.
    query = query.where('at', '<=', at).where(sql<boolean>`(at < ${at} or id < ${id})`);
  }
  return query.orderBy('at', 'desc').orderBy('id', 'desc').limit(q.limit).execute();
}
