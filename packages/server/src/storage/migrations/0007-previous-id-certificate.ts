import type { Kysely, Migration } from 'kysely';

/**
 * Each instance's ID certificate before its last renewal (serial, public key, expiry),
 * accepted until the device first uses the new one, so that a renewal whose answer the
 * device never saved does not strand it. Null when there is none.
 */
export const previousIdCertificateMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('instances').addColumn('previous_id_cert_serial', 'text').execute();
    await db.schema.alterTable('instances').addColumn('previous_public_key_spki', 'text').execute();
    await db.schema.alterTable('instances').addColumn('previous_id_cert_expires_at', 'bigint').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('instances').dropColumn('previous_id_cert_expires_at').execute();
    await db.schema.alterTable('instances').dropColumn('previous_public_key_spki').execute();
    await db.schema.alterTable('instances').dropColumn('previous_id_cert_serial').execute();
  },
};
