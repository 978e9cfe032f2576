import type { Kysely, Migration } from 'kysely';

/**
 * The first schema. Written with Kysely's schema builder only (no SQLite-specific SQL) so
 * that it also runs on PostgreSQL: text ids, bigint millisecond times, integer booleans.
 */
export const initialMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('smart_accounts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('domain', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('virtual_accounts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull().references('smart_accounts.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('virtual_accounts_account_name_unique', ['account_id', 'name'])
      .execute();

    await db.schema
      .createTable('license_pools')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('va_id', 'text', (c) => c.notNull().references('virtual_accounts.id').onDelete('cascade'))
      .addColumn('tag', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text')
      .addColumn('quantity', 'integer', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('starts_at', 'bigint', (c) => c.notNull())
      .addColumn('ends_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('license_pools_va_tag').on('license_pools').columns(['va_id', 'tag']).execute();

    await db.schema
      .createTable('tokens')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('va_id', 'text', (c) => c.notNull().references('virtual_accounts.id').onDelete('cascade'))
      .addColumn('token', 'text', (c) => c.notNull().unique())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('max_uses', 'integer')
      .addColumn('uses', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('export_controlled', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('revoked_at', 'bigint')
      .execute();
    await db.schema.createIndex('tokens_va').on('tokens').column('va_id').execute();

    await db.schema
      .createTable('instances')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('va_id', 'text', (c) => c.notNull().references('virtual_accounts.id').onDelete('cascade'))
      .addColumn('token_id', 'text', (c) => c.references('tokens.id').onDelete('set null'))
      .addColumn('pid', 'text', (c) => c.notNull())
      .addColumn('sn', 'text', (c) => c.notNull())
      .addColumn('hostname', 'text')
      .addColumn('software_tag', 'text', (c) => c.notNull())
      .addColumn('public_key_spki', 'text', (c) => c.notNull())
      .addColumn('id_cert_pem', 'text', (c) => c.notNull())
      .addColumn('id_cert_serial', 'text', (c) => c.notNull())
      .addColumn('id_cert_expires_at', 'bigint', (c) => c.notNull())
      .addColumn('registered_at', 'bigint', (c) => c.notNull())
      .addColumn('last_contact_at', 'bigint', (c) => c.notNull())
      .addColumn('export_controlled', 'integer', (c) => c.notNull().defaultTo(0))
      .addUniqueConstraint('instances_udi_unique', ['pid', 'sn'])
      .execute();
    await db.schema.createIndex('instances_va').on('instances').column('va_id').execute();
    await db.schema.createIndex('instances_token').on('instances').column('token_id').execute();

    await db.schema
      .createTable('instance_usage')
      .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id').onDelete('cascade'))
      .addColumn('tag', 'text', (c) => c.notNull())
      .addColumn('count', 'integer', (c) => c.notNull())
      .addColumn('display_name', 'text')
      .addPrimaryKeyConstraint('instance_usage_pk', ['instance_id', 'tag'])
      .execute();

    await db.schema
      .createTable('va_usage')
      .addColumn('va_id', 'text', (c) => c.notNull().references('virtual_accounts.id').onDelete('cascade'))
      .addColumn('tag', 'text', (c) => c.notNull())
      .addColumn('in_use', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('va_usage_pk', ['va_id', 'tag'])
      .execute();

    await db.schema
      .createTable('nonces')
      .addColumn('nonce', 'text', (c) => c.primaryKey())
      .addColumn('seen_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('nonces_seen_at').on('nonces').column('seen_at').execute();

    await db.schema
      .createTable('api_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('hash', 'text', (c) => c.notNull().unique())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_used_at', 'bigint')
      .addColumn('revoked_at', 'bigint')
      .addColumn('user_id', 'text')
      .execute();
  },
};
