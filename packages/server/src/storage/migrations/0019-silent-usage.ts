import type { Kysely, Migration } from 'kysely';

/**
 * Silent usage without a scan of silent instances (ADR 0011):
 * - `instances.silent_counted`: 1 once the silent-instance job has added the instance's usage
 *   to `va_silent_usage`; set back to 0 (and the usage taken out) by whatever next touches the
 *   instance's contact, usage, VA or existence.
 * - `va_silent_usage`: the usage of the counted instances per VA and tag.
 * - an index (va_id, silent_counted, last_contact_at) so that the instances that fell silent
 *   since the job last ran are one range read.
 * Nothing is counted here: until the job first runs, every silent instance is in that range.
 */
export const silentUsageMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable('instances')
      .addColumn('silent_counted', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .createTable('va_silent_usage')
      .addColumn('va_id', 'text', (c) => c.notNull().references('virtual_accounts.id').onDelete('cascade'))
      .addColumn('tag', 'text', (c) => c.notNull())
      .addColumn('in_use', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('va_silent_usage_pk', ['va_id', 'tag'])
      .execute();
    await db.schema
      .createIndex('instances_va_silent_contact')
      .on('instances')
      .columns(['va_id', 'silent_counted', 'last_contact_at'])
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('instances_va_silent_contact').execute();
    await db.schema.dropTable('va_silent_usage').execute();
    await db.schema.alterTable('instances').dropColumn('silent_counted').execute();
  },
};
