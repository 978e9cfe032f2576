import type { Kysely } from 'kysely';
import type { Database, TokenRow } from '../../storage/schema.js';
import { tokenHash } from './token-values.js';

export async function insertToken(db: Kysely<Database>, row: TokenRow): Promise<void> {
  await db.insertInto('tokens').values(row).execute();
}

export async function findTokenById(db: Kysely<Database>, id: string): Promise<TokenRow | undefined> {
  return db.selectFrom('tokens').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The token a device presents, found by its SHA-256 (the value itself is stored encrypted). */
export async function findTokenByValue(db: Kysely<Database>, token: string): Promise<TokenRow | undefined> {
  return db.selectFrom('tokens').selectAll().where('token_hash', '=', tokenHash(token)).executeTakeFirst();
}

export async function listTokens(db: Kysely<Database>, vaId: string): Promise<TokenRow[]> {
  return db.selectFrom('tokens').selectAll().where('va_id', '=', vaId).orderBy('created_at').orderBy('id').execute();
}

/** Marks a token revoked at `now` unless it already is. */
export async function revokeToken(db: Kysely<Database>, id: string, now: number): Promise<void> {
  await db
    .updateTable('tokens')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .execute();
}

/**
 * Counts one use of a token, only if it is still usable (not revoked, not expired, uses
 * left): the guard makes concurrent registrations unable to exceed `max_uses`.
 */
export async function consumeTokenUse(db: Kysely<Database>, id: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('tokens')
    .set((eb) => ({ uses: eb('uses', '+', 1) }))
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .where((eb) => eb.or([eb('max_uses', 'is', null), eb('uses', '<', eb.ref('max_uses'))]))
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}
