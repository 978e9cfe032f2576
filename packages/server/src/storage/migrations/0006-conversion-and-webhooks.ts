import type { Kysely, Migration } from 'kysely';

/**
 * Conversion of legacy licenses (PAKs and their SKUs, the conversion history, device-led
 * conversions once per instance UDI and legacy id) and webhooks with their delivery queue.
 */
export const conversionAndWebhooksMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('paks')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull().references('smart_accounts.id'))
      .addColumn('number', 'text', (c) => c.notNull().unique())
      .addColumn('order_number', 'text')
      .addColumn('partial_allowed', 'integer', (c) => c.notNull())
      .addColumn('imported_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('paks_account').on('paks').column('account_id').execute();
    await db.schema
      .createTable('pak_skus')
      .addColumn('pak_id', 'text', (c) => c.notNull().references('paks.id'))
      .addColumn('sku', 'text', (c) => c.notNull())
      .addColumn('tag', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text')
      .addColumn('quantity', 'integer', (c) => c.notNull())
      .addColumn('converted', 'integer', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('ends_at', 'bigint')
      .addPrimaryKeyConstraint('pak_skus_pk', ['pak_id', 'sku'])
      .execute();
    await db.schema
      .createTable('conversions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('pak_id', 'text')
      .addColumn('sku', 'text')
      .addColumn('instance_id', 'text')
      .addColumn('udi', 'text')
      .addColumn('legacy_id', 'text')
      .addColumn('va_id', 'text', (c) => c.notNull())
      .addColumn('tag', 'text', (c) => c.notNull())
      .addColumn('quantity', 'integer', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('conversions_account_at').on('conversions').columns(['account_id', 'at']).execute();
    // A device's legacy license is deposited once, whatever instance id the device has then.
    await db.schema
      .createTable('device_conversions')
      .addColumn('udi', 'text', (c) => c.notNull())
      .addColumn('legacy_id', 'text', (c) => c.notNull())
      .addColumn('instance_id', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('device_conversions_pk', ['udi', 'legacy_id'])
      .execute();
    await db.schema
      .createTable('webhooks')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull().references('smart_accounts.id'))
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('secret', 'text', (c) => c.notNull())
      .addColumn('events', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('disabled', 'integer', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('webhooks_account').on('webhooks').column('account_id').execute();
    await db.schema
      .createTable('webhook_deliveries')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('webhook_id', 'text', (c) => c.notNull())
      .addColumn('event_type', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('next_attempt_at', 'bigint')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('last_error', 'text')
      .addColumn('delivered_at', 'bigint')
      .execute();
    await db.schema
      .createIndex('webhook_deliveries_due')
      .on('webhook_deliveries')
      .columns(['status', 'next_attempt_at'])
      .execute();
    await db.schema
      .createIndex('webhook_deliveries_webhook')
      .on('webhook_deliveries')
      .columns(['webhook_id', 'created_at'])
      .execute();
    // The daily summary job's memory: the last day summarised per account.
    await db.schema
      .createTable('webhook_summaries')
      .addColumn('account_id', 'text', (c) => c.primaryKey())
      .addColumn('last_until', 'bigint', (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const table of [
      'webhook_summaries',
      'webhook_deliveries',
      'webhooks',
      'device_conversions',
      'conversions',
      'pak_skus',
      'paks',
    ]) {
      await db.schema.dropTable(table).execute();
    }
  },
};
