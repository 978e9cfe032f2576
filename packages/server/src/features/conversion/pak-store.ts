import { type Kysely, sql } from 'kysely';
import type { ConversionRow, Database, PakRow, PakSkuRow } from '../../storage/schema.js';

export async function insertPak(db: Kysely<Database>, pak: PakRow, skus: readonly PakSkuRow[]): Promise<void> {
  await db.insertInto('paks').values(pak).execute();
  await db
    .insertInto('pak_skus')
    .values([...skus])
    .execute();
}

export async function findPak(db: Kysely<Database>, id: string): Promise<PakRow | undefined> {
  return db.selectFrom('paks').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findPakByNumber(db: Kysely<Database>, number: string): Promise<PakRow | undefined> {
  return db.selectFrom('paks').selectAll().where('number', '=', number).executeTakeFirst();
}

export async function listPaks(db: Kysely<Database>, accountId: string): Promise<PakRow[]> {
  return db
    .selectFrom('paks')
    .selectAll()
    .where('account_id', '=', accountId)
    .orderBy('imported_at')
    .orderBy('number')
    .execute();
}

export async function readPakSkus(db: Kysely<Database>, pakIds: readonly string[]): Promise<PakSkuRow[]> {
  if (pakIds.length === 0) return [];
  return db.selectFrom('pak_skus').selectAll().where('pak_id', 'in', pakIds).orderBy('pak_id').orderBy('sku').execute();
}

/** Adds `quantity` to a SKU's converted count, only if that leaves it within its quantity. */
export async function markConverted(
  db: Kysely<Database>,
  pakId: string,
  sku: string,
  quantity: number,
): Promise<boolean> {
  const result = await db
    .updateTable('pak_skus')
    .set((eb) => ({ converted: eb('converted', '+', quantity) }))
    .where('pak_id', '=', pakId)
    .where('sku', '=', sku)
    .where(sql<boolean>`converted + ${quantity} <= quantity`)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function insertConversion(db: Kysely<Database>, row: ConversionRow): Promise<void> {
  await db.insertInto('conversions').values(row).execute();
}

export async function listConversions(db: Kysely<Database>, accountId: string): Promise<ConversionRow[]> {
  return db
    .selectFrom('conversions')
    .selectAll()
    .where('account_id', '=', accountId)
    .orderBy('at')
    .orderBy('pak_id')
    .orderBy('sku')
    .orderBy('udi')
    .orderBy('legacy_id')
    .orderBy('id')
    .execute();
}
