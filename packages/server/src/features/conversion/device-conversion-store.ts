import { type Kysely, sql } from 'kysely';
import type {
  Database,
  DeviceConversionRequestRow,
  DeviceConversionStatus,
  VaConversionSettingRow,
} from '../../storage/schema.js';

/** A VA's device-led conversion settings; what a VA without a row has. */
export const DEFAULT_CONVERSION_SETTINGS: Readonly<Omit<VaConversionSettingRow, 'va_id' | 'updated_at'>> = {
  mode: 'off',
  max_per_report: 1000,
  auto_max_per_license: 100,
  auto_max_per_device: 1000,
};

/** The settings of VA `vaId` (the defaults, conversion off, when never set). */
export async function readConversionSettings(
  db: Kysely<Database>,
  vaId: string,
): Promise<Omit<VaConversionSettingRow, 'updated_at'> & { updated_at: number | null }> {
  const row = await db.selectFrom('va_conversion_settings').selectAll().where('va_id', '=', vaId).executeTakeFirst();
  return row ?? { va_id: vaId, ...DEFAULT_CONVERSION_SETTINGS, updated_at: null };
}

export async function writeConversionSettings(db: Kysely<Database>, row: VaConversionSettingRow): Promise<void> {
  const { va_id: _, ...rest } = row;
  await db
    .insertInto('va_conversion_settings')
    .values(row)
    .onConflict((oc) => oc.column('va_id').doUpdateSet(rest))
    .execute();
}

export async function insertConversionRequests(
  db: Kysely<Database>,
  rows: readonly DeviceConversionRequestRow[],
): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('device_conversion_requests')
    .values([...rows])
    .execute();
}

export async function findConversionRequest(
  db: Kysely<Database>,
  id: string,
): Promise<DeviceConversionRequestRow | undefined> {
  return db.selectFrom('device_conversion_requests').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A VA's device-led conversion requests, oldest first; only those of `status` when given. */
export async function listConversionRequests(
  db: Kysely<Database>,
  vaId: string,
  status?: DeviceConversionStatus,
): Promise<DeviceConversionRequestRow[]> {
  let query = db.selectFrom('device_conversion_requests').selectAll().where('va_id', '=', vaId);
  if (status !== undefined) query = query.where('status', '=', status);
  return query.orderBy('requested_at').orderBy('udi').orderBy('legacy_id').execute();
}

/** Decides a pending request; false when it is no longer pending (decided concurrently). */
export async function decideConversionRequest(
  db: Kysely<Database>,
  id: string,
  decision: { status: Exclude<DeviceConversionStatus, 'pending'>; at: number; by: string },
): Promise<boolean> {
  const result = await db
    .updateTable('device_conversion_requests')
    .set({ status: decision.status, decided_at: decision.at, decided_by: decision.by })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * How many licenses a device (UDI) has had deposited without an administrator: its
 * device-led conversions recorded with a device as the actor (an approval records the admin).
 */
export async function autoConvertedCount(db: Kysely<Database>, udi: string): Promise<number> {
  const { rows } = await sql<{ n: number | string | null }>`
    select sum(quantity) as n from conversions
    where udi = ${udi} and pak_id is null and actor like ${'device:%'}`.execute(db);
  return Number(rows[0]?.n ?? 0);
}
