import type { Kysely } from 'kysely';
import type { ApiKeyRow, Database } from '../../storage/schema.js';

export async function insertApiKey(db: Kysely<Database>, row: ApiKeyRow): Promise<void> {
  await db.insertInto('api_keys').values(row).execute();
}

export async function findApiKeyByHash(db: Kysely<Database>, hash: string): Promise<ApiKeyRow | undefined> {
  return db.selectFrom('api_keys').selectAll().where('hash', '=', hash).executeTakeFirst();
}

/** How many keys of `role` are not revoked. */
export async function countLiveKeys(db: Kysely<Database>, role: ApiKeyRow['role']): Promise<number> {
  const row = await db
    .selectFrom('api_keys')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('role', '=', role)
    .where('revoked_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Records key uses `[id, at]`; a stored time only moves forward (another process may have written a later one). */
export async function recordKeyUses(
  db: Kysely<Database>,
  uses: ReadonlyArray<readonly [string, number]>,
): Promise<void> {
  for (const [id, at] of uses) {
    await db
      .updateTable('api_keys')
      .set({ last_used_at: at })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at)]))
      .execute();
  }
}
