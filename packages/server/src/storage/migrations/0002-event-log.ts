import type { Kysely, Migration } from 'kysely';

/** The event log of SPEC §2: who did what, when, in which Smart Account and Virtual Account. */
export const eventLogMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('events')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('account_id', 'text')
      .addColumn('va_id', 'text')
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('detail', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('events_va_at').on('events').columns(['va_id', 'at']).execute();
    await db.schema.createIndex('events_account_at').on('events').columns(['account_id', 'at']).execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('events').execute();
  },
};
