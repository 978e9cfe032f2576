import type { Kysely, Migration } from 'kysely';

/**
 * Users, their roles on Smart Accounts and Virtual Accounts, per-user API keys (SPEC §2,
 * §9), and each instance's last compliance status (for the event log).
 */
export const peopleAndAccessMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('users')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('email', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('role_grants')
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text', (c) => c.notNull())
      // '' rather than NULL for a grant on the whole Smart Account, so that the key is unique.
      .addColumn('va_id', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('granted_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('role_grants_pk', ['user_id', 'account_id', 'va_id'])
      .execute();
    await db.schema.createIndex('role_grants_account').on('role_grants').columns(['account_id', 'va_id']).execute();
    await db.schema.createIndex('api_keys_user').on('api_keys').column('user_id').execute();
    // The status of an instance's last authorization, so that the event log records changes only.
    await db.schema.alterTable('instances').addColumn('compliance_status', 'text').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('instances').dropColumn('compliance_status').execute();
    await db.schema.dropIndex('api_keys_user').execute();
    await db.schema.dropTable('role_grants').execute();
    await db.schema.dropTable('users').execute();
  },
};
