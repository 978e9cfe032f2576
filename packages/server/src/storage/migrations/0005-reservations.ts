import type { Kysely, Migration } from 'kysely';

/**
 * Offline license reservation (SPEC §7, issue 5): whether a VA allows reservation, and one
 * row per reservation (SLR or PLR) with its MAC key, sequence and licenses.
 */
export const reservationsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('va_reservation_settings')
      .addColumn('va_id', 'text', (c) => c.primaryKey())
      .addColumn('allowed', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('reservations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('va_id', 'text', (c) => c.notNull())
      .addColumn('instance_id', 'text', (c) => c.notNull())
      .addColumn('udi_pid', 'text', (c) => c.notNull())
      .addColumn('udi_sn', 'text', (c) => c.notNull())
      .addColumn('request_nonce', 'text', (c) => c.notNull())
      .addColumn('device_key', 'text', (c) => c.notNull())
      .addColumn('authority_key', 'text', (c) => c.notNull())
      .addColumn('mac_key', 'text', (c) => c.notNull())
      .addColumn('sequence', 'integer', (c) => c.notNull())
      .addColumn('confirmed_sequence', 'integer', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('licenses', 'text', (c) => c.notNull())
      .addColumn('confirmed_licenses', 'text', (c) => c.notNull())
      .addColumn('plr', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('returned_at', 'bigint')
      .execute();
    await db.schema.createIndex('reservations_instance').on('reservations').column('instance_id').execute();
    await db.schema.createIndex('reservations_udi').on('reservations').columns(['udi_pid', 'udi_sn']).execute();
    await db.schema.createIndex('reservations_request').on('reservations').column('request_nonce').unique().execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('reservations').execute();
    await db.schema.dropTable('va_reservation_settings').execute();
  },
};
