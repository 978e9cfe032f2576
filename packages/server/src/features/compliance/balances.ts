import { type Kysely, sql } from 'kysely';
import type { Database } from '../../storage/schema.js';
import type { TagBalance } from './compliance.js';

/** A tag's balance with the display name its pools give it. */
export interface NamedBalance extends TagBalance {
  displayName: string | null;
}

/**
 * Quantity (pools active at `now`) and in-use total of each tag of a VA, for all tags
 * with an active pool or usage, or only for `tags`. One statement: it is on the device
 * hot path, so it is plain SQL (portable to PostgreSQL) rather than the query builder.
 */
export async function readBalances(
  db: Kysely<Database>,
  vaId: string,
  now: number,
  tags?: readonly string[],
): Promise<Map<string, NamedBalance>> {
  if (tags && tags.length === 0) return new Map();
  const onlyTags = tags ? sql`and tag in (${sql.join(tags)})` : sql``;
  const { rows } = await sql<{ tag: string; quantity: number; in_use: number; display_name: string | null }>`
    select tag, sum(quantity) as quantity, sum(in_use) as in_use, max(display_name) as display_name from (
      select tag, quantity, 0 as in_use, display_name from license_pools
        where va_id = ${vaId} and starts_at <= ${now} and (ends_at is null or ends_at > ${now}) ${onlyTags}
      union all
      select tag, 0 as quantity, in_use, null as display_name from va_usage
        where va_id = ${vaId} and in_use <> 0 ${onlyTags}
    ) as balance group by tag`.execute(db);
  return new Map(
    rows.map((r) => [r.tag, { quantity: Number(r.quantity), inUse: Number(r.in_use), displayName: r.display_name }]),
  );
}
