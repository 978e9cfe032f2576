import { SmartlicError } from '@smartlic/protocol';
import { type Kysely, type SqlBool, sql } from 'kysely';
import type { Database, ReservationRow } from '../../storage/schema.js';

/** Whether VA `vaId` allows license reservation. */
export async function reservationAllowed(db: Kysely<Database>, vaId: string): Promise<boolean> {
  const row = await db
    .selectFrom('va_reservation_settings')
    .select('allowed')
    .where('va_id', '=', vaId)
    .executeTakeFirst();
  return row?.allowed === 1;
}

/** Sets whether VA `vaId` allows license reservation. */
export async function setReservationAllowed(
  db: Kysely<Database>,
  vaId: string,
  allowed: boolean,
  now: number,
): Promise<void> {
  await db
    .insertInto('va_reservation_settings')
    .values({ va_id: vaId, allowed: allowed ? 1 : 0, updated_at: now })
    .onConflict((oc) => oc.column('va_id').doUpdateSet({ allowed: allowed ? 1 : 0, updated_at: now }))
    .execute();
}

/** The latest reservation shown by instance `instanceId` (returned ones included: replays are recognised). */
export async function findReservationByInstance(
  db: Kysely<Database>,
  instanceId: string,
): Promise<ReservationRow | undefined> {
  return db
    .selectFrom('reservations')
    .selectAll()
    .where('instance_id', '=', instanceId)
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
}

/** The reservation made from request nonce `nonce`, if any. */
export async function findReservationByRequest(
  db: Kysely<Database>,
  nonce: string,
): Promise<ReservationRow | undefined> {
  return db.selectFrom('reservations').selectAll().where('request_nonce', '=', nonce).executeTakeFirst();
}

/** Whether instance `instanceId` holds a reservation that has not been returned. */
export async function hasActiveReservation(db: Kysely<Database>, instanceId: string): Promise<boolean> {
  const row = await db
    .selectFrom('reservations')
    .select('id')
    .where('instance_id', '=', instanceId)
    .where('status', '!=', 'returned')
    .executeTakeFirst();
  return row !== undefined;
}

export async function insertReservation(db: Kysely<Database>, row: ReservationRow): Promise<void> {
  await db.insertInto('reservations').values(row).execute();
}

export async function updateReservation(
  db: Kysely<Database>,
  id: string,
  changes: Partial<Omit<ReservationRow, 'id'>>,
): Promise<void> {
  await db.updateTable('reservations').set(changes).where('id', '=', id).execute();
}

/**
 * A condition on an instance aliased `i`: it holds no reservation. Reserved instances never
 * call home by design, so jobs about silent instances (release at 90 days, removal at one year)
 * must skip them: `.where(notReservedInstance)`.
 */
export const notReservedInstance = sql<SqlBool>`not exists (select 1 from reservations r where r.instance_id = i.id and r.status <> 'returned')`;

/**
 * Refuses an administrator's change to an instance that holds a license reservation: its
 * counts come back only with the device's return code, or the device would keep licenses
 * the pool counts as free.
 */
export async function assertNotReserved(db: Kysely<Database>, instanceId: string, change: string): Promise<void> {
  const held = await db
    .selectFrom('reservations')
    .select('id')
    .where('instance_id', '=', instanceId)
    .where('status', '<>', 'returned')
    .executeTakeFirst();
  if (held) {
    throw new SmartlicError('CONFLICT', {
      message: `Product instance ${instanceId} holds a license reservation and cannot be ${change}: enter the device's return code instead (smartlic admin reservation return).`,
    });
  }
}
