import { type Kysely, type Migration, sql } from 'kysely';

/**
 * Fleet scale (a million instances in one VA):
 * - `va_reported_names`: how many of a VA's instances report each display name of a tag, kept
 *   with the usage in the same transaction (as `va_usage` is), so that the license list names
 *   unpooled tags without reading the instances' usage. Filled here from `instance_usage`.
 * - indexes for the sort of every list, so that each page is a range read of an index:
 *   instances in registration order (keyset paging) and by last contact (silent usage),
 *   events newest first per VA, per Smart Account and overall.
 */
export const fleetScaleMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('va_reported_names')
      .addColumn('va_id', 'text', (c) => c.notNull().references('virtual_accounts.id').onDelete('cascade'))
      .addColumn('tag', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('instances', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('va_reported_names_pk', ['va_id', 'tag', 'display_name'])
      .execute();
    await sql`
      insert into va_reported_names (va_id, tag, display_name, instances)
      select i.va_id, u.tag, u.display_name, count(*) from instance_usage u
        inner join instances i on i.id = u.instance_id
        where u.display_name is not null
        group by i.va_id, u.tag, u.display_name`.execute(db);

    await db.schema
      .createIndex('instances_va_registered')
      .on('instances')
      .columns(['va_id', 'registered_at', 'pid', 'sn'])
      .execute();
    await db.schema
      .createIndex('instances_va_last_contact')
      .on('instances')
      .columns(['va_id', 'last_contact_at'])
      .execute();
    // The (va_id) index is the prefix of the two above.
    await db.schema.dropIndex('instances_va').execute();
    await db.schema.createIndex('events_va_at_id').on('events').columns(['va_id', 'at', 'id']).execute();
    await db.schema.createIndex('events_account_at_id').on('events').columns(['account_id', 'at', 'id']).execute();
    await db.schema.createIndex('events_at_id').on('events').columns(['at', 'id']).execute();
    await db.schema.dropIndex('events_va_at').execute();
    await db.schema.dropIndex('events_account_at').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.createIndex('events_account_at').on('events').columns(['account_id', 'at']).execute();
    await db.schema.createIndex('events_va_at').on('events').columns(['va_id', 'at']).execute();
    await db.schema.dropIndex('events_at_id').execute();
    await db.schema.dropIndex('events_account_at_id').execute();
    await db.schema.dropIndex('events_va_at_id').execute();
    await db.schema.createIndex('instances_va').on('instances').column('va_id').execute();
    await db.schema.dropIndex('instances_va_last_contact').execute();
    await db.schema.dropIndex('instances_va_registered').execute();
    await db.schema.dropTable('va_reported_names').execute();
  },
};
