import { type Kysely, sql } from 'kysely';
import type { Database } from '../../storage/schema.js';

// Device hot path: plain SQL through Kysely's `sql` tag (portable: SQLite and PostgreSQL),
// which costs a fraction of the query builder per statement.

/** Records a nonce; false when it was seen before (a replay). */
export async function recordNonce(db: Kysely<Database>, nonce: string, now: number): Promise<boolean> {
  const result =
    await sql`insert into nonces (nonce, seen_at) values (${nonce}, ${now}) on conflict (nonce) do nothing`.execute(db);
  return result.numAffectedRows === 1n;
}

/** Forgets nonces seen before `before`; returns how many. */
export async function purgeNonces(db: Kysely<Database>, before: number): Promise<number> {
  const result = await db.deleteFrom('nonces').where('seen_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}
