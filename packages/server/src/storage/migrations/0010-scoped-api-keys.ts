import type { Kysely, Migration } from 'kysely';

/**
 * The scope of an API key (ADR 0006): the Smart Account, and optionally the VA, a key is
 * limited to. Keys an admin issues for another user are scoped to the place the admin
 * administers; existing keys stay unscoped (both columns null) and carry every grant of
 * their user, as before.
 */
export const scopedApiKeysMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('api_keys').addColumn('scope_account_id', 'text').execute();
    await db.schema.alterTable('api_keys').addColumn('scope_va_id', 'text').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('api_keys').dropColumn('scope_va_id').execute();
    await db.schema.alterTable('api_keys').dropColumn('scope_account_id').execute();
  },
};
