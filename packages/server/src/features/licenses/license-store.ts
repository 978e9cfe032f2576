import type { Kysely } from 'kysely';
import type { Database, LicensePoolRow } from '../../storage/schema.js';

export async function insertPool(db: Kysely<Database>, row: LicensePoolRow): Promise<void> {
  await db.insertInto('license_pools').values(row).execute();
}

/** Every tag the VA has a pool of (active or not), with the most recent display name given. */
export async function readPoolTags(db: Kysely<Database>, vaId: string): Promise<Map<string, string | null>> {
  const rows = await db
    .selectFrom('license_pools')
    .select(['tag', 'display_name'])
    .where('va_id', '=', vaId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  const names = new Map<string, string | null>();
  for (const row of rows) names.set(row.tag, row.display_name ?? names.get(row.tag) ?? null);
  return names;
}

/** Pools of a VA active at `now` (started, not ended), optionally of one tag, soonest end first (perpetual last). */
export async function readActivePools(
  db: Kysely<Database>,
  vaId: string,
  now: number,
  tag?: string,
): Promise<LicensePoolRow[]> {
  let query = db
    .selectFrom('license_pools')
    .selectAll()
    .where('va_id', '=', vaId)
    .where('starts_at', '<=', now)
    .where((eb) => eb.or([eb('ends_at', 'is', null), eb('ends_at', '>', now)]));
  if (tag !== undefined) query = query.where('tag', '=', tag);
  const rows = await query.orderBy('created_at').orderBy('id').execute();
  return rows.sort((a, b) => (a.ends_at ?? Number.POSITIVE_INFINITY) - (b.ends_at ?? Number.POSITIVE_INFINITY));
}

/**
 * Takes `count` licenses from a pool, only if it still holds them (a conditional update, not
 * an absolute write of a value read earlier); a pool left empty is removed. False when the
 * pool no longer holds `count`: another unit drew from it since it was read.
 */
export async function takeFromPool(db: Kysely<Database>, id: string, count: number): Promise<boolean> {
  const result = await db
    .updateTable('license_pools')
    .set((eb) => ({ quantity: eb('quantity', '-', count) }))
    .where('id', '=', id)
    .where('quantity', '>=', count)
    .executeTakeFirst();
  if (result.numUpdatedRows !== 1n) return false;
  await db.deleteFrom('license_pools').where('id', '=', id).where('quantity', '<=', 0).execute();
  return true;
}
