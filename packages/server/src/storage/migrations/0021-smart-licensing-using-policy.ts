import type { Kysely, Migration } from 'kysely';

/**
 * Smart Licensing Using Policy (SPEC §9, ADR 0018):
 * - `policy_reports`: every RUM report recorded, once per report id (the key), so that a report
 *   sent or imported again counts once; removed with its instance.
 * - `policy_devices`: the product instances of the policy model (from their trust code), and the
 *   newest report whose usage is the instance's usage.
 * - `va_policies`: a Virtual Account's custom terms per license class (defaults otherwise).
 * - `slac_authorizations`: Smart Licensing Authorization Codes issued, and their return.
 */
export const smartLicensingUsingPolicyMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('policy_reports')
      .addColumn('report_id', 'text', (c) => c.primaryKey())
      .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id').onDelete('cascade'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('received_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('policy_reports_instance')
      .on('policy_reports')
      .columns(['instance_id', 'created_at'])
      .execute();
    await db.schema
      .createTable('policy_devices')
      .addColumn('instance_id', 'text', (c) => c.primaryKey().references('instances.id').onDelete('cascade'))
      .addColumn('trusted_at', 'bigint', (c) => c.notNull())
      .addColumn('last_report_id', 'text')
      .addColumn('last_report_created_at', 'bigint')
      .addColumn('last_ack_at', 'bigint')
      .execute();
    await db.schema
      .createTable('va_policies')
      .addColumn('va_id', 'text', (c) => c.notNull().references('virtual_accounts.id').onDelete('cascade'))
      .addColumn('license_class', 'text', (c) => c.notNull())
      .addColumn('first_report_days', 'integer', (c) => c.notNull())
      .addColumn('frequency_days', 'integer', (c) => c.notNull())
      .addColumn('on_change_days', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('va_policies_pk', ['va_id', 'license_class'])
      .execute();
    await db.schema
      .createTable('slac_authorizations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id').onDelete('cascade'))
      .addColumn('licenses', 'text', (c) => c.notNull())
      .addColumn('issued_at', 'bigint', (c) => c.notNull())
      .addColumn('returned_at', 'bigint')
      .execute();
    await db.schema
      .createIndex('slac_authorizations_instance')
      .on('slac_authorizations')
      .column('instance_id')
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('slac_authorizations').execute();
    await db.schema.dropTable('va_policies').execute();
    await db.schema.dropTable('policy_devices').execute();
    await db.schema.dropTable('policy_reports').execute();
  },
};
