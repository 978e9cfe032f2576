import type { Kysely, Migration } from 'kysely';

/**
 * Portal sign-in (ADR 0016): a password per user (`users.password_hash`, scrypt with its
 * parameters in the string; null: no password, the user signs in with an API key only), the
 * password of the bootstrap owner `admin` (`owner_credentials`, one row), and the sessions
 * (`portal_sessions`), found by the SHA-256 of the cookie's value, never the value itself.
 */
export const portalSessionsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('users').addColumn('password_hash', 'text').execute();
    await db.schema
      .createTable('owner_credentials')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('password_hash', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('portal_sessions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text')
      .addColumn('api_key_id', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('portal_sessions_expires').on('portal_sessions').column('expires_at').execute();
    await db.schema.createIndex('portal_sessions_user').on('portal_sessions').column('user_id').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('portal_sessions').execute();
    await db.schema.dropTable('owner_credentials').execute();
    await db.schema.alterTable('users').dropColumn('password_hash').execute();
  },
};
