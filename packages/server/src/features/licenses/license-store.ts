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
