import type { Kysely, Migration } from 'kysely';

/**
 * License lifecycle and hierarchy (issue 4): the tag catalogue with parent tags, daily
 * usage snapshots per VA and tag, and the marks that make background jobs idempotent.
 */
export const licenseLifecycleMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('tags')
      .addColumn('tag', 'text', (c) => c.primaryKey())
      .addColumn('display_name', 'text')
      .addColumn('parent_tag', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('usage_snapshots')
      .addColumn('va_id', 'text', (c) => c.notNull().references('virtual_accounts.id').onDelete('cascade'))
      .addColumn('tag', 'text', (c) => c.notNull())
      .addColumn('day', 'text', (c) => c.notNull())
      .addColumn('quantity', 'bigint', (c) => c.notNull())
      .addColumn('in_use', 'bigint', (c) => c.notNull())
      .addColumn('taken_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('usage_snapshots_pk', ['va_id', 'tag', 'day'])
      .execute();

    await db.schema
      .createTable('job_marks')
      .addColumn('job', 'text', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('job_marks_pk', ['job', 'subject'])
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('job_marks').execute();
    await db.schema.dropTable('usage_snapshots').execute();
    await db.schema.dropTable('tags').execute();
  },
};
