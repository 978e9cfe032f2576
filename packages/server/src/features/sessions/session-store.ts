import type { Kysely } from 'kysely';
import type { Database, OwnerCredentialRow, PortalSessionRow } from '../../storage/schema.js';

type Db = Kysely<Database>;

export async function insertSession(db: Db, row: PortalSessionRow): Promise<void> {
  await db.insertInto('portal_sessions').values(row).execute();
}

export async function findSessionByHash(db: Db, tokenHash: string): Promise<PortalSessionRow | undefined> {
  return db.selectFrom('portal_sessions').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

export async function touchSession(db: Db, id: string, now: number): Promise<void> {
  await db.updateTable('portal_sessions').set({ last_seen_at: now }).where('id', '=', id).execute();
}

/** Deletes one session; whether it existed. */
export async function deleteSession(db: Db, id: string): Promise<boolean> {
  const result = await db.deleteFrom('portal_sessions').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Deletes the sessions past their absolute lifetime or idle since before `idleBefore`. */
export async function deleteEndedSessions(db: Db, now: number, idleBefore: number): Promise<number> {
  const result = await db
    .deleteFrom('portal_sessions')
    .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<', idleBefore)]))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Ends every session of a user (a new password signs everyone else out). */
export async function deleteUserSessions(db: Db, userId: string): Promise<void> {
  await db.deleteFrom('portal_sessions').where('user_id', '=', userId).execute();
}

/** Ends every session of the owner. */
export async function deleteOwnerSessions(db: Db): Promise<void> {
  await db.deleteFrom('portal_sessions').where('kind', '=', 'owner').execute();
}

export async function findOwnerCredential(db: Db, name: string): Promise<OwnerCredentialRow | undefined> {
  return db.selectFrom('owner_credentials').selectAll().where('name', '=', name).executeTakeFirst();
}

export async function upsertOwnerCredential(db: Db, row: OwnerCredentialRow): Promise<void> {
  await db
    .insertInto('owner_credentials')
    .values(row)
    .onConflict((oc) => oc.column('name').doUpdateSet({ password_hash: row.password_hash, updated_at: row.updated_at }))
    .execute();
}

export async function findUserPassword(
  db: Db,
  email: string,
): Promise<{ id: string; password_hash: string | null } | undefined> {
  const row = await db
    .selectFrom('users')
    .select(['id', 'password_hash'])
    .where('email', '=', email)
    .executeTakeFirst();
  return row && { id: row.id, password_hash: row.password_hash ?? null };
}

export async function setUserPassword(db: Db, userId: string, hash: string): Promise<void> {
  await db.updateTable('users').set({ password_hash: hash }).where('id', '=', userId).execute();
}
