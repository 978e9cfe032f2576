import { createHash } from 'node:crypto';
import { type Kysely, type Migration, sql } from 'kysely';

/**
 * Device-led conversion under the control of each Virtual Account, and registration tokens
 * stored as API keys are:
 *
 * - `va_conversion_settings`: whether a VA accepts device-led conversion (no row: it does
 *   not) and its caps; `device_conversion_requests`: every legacy license a device reported
 *   since, deposited automatically under the caps or pending an administrator's decision.
 * - `tokens.token_hash`: SHA-256 (hex) of the token, the only column registration looks
 *   tokens up by. The value itself is kept encrypted (`features/tokens/token-values.ts`),
 *   so that users and admins can copy it later; a migration has no key, so this one marks
 *   every value as `plain:<token>` and the start-up that follows (with the key) encrypts them.
 */
export const conversionReviewAndTokenHashesMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('va_conversion_settings')
      .addColumn('va_id', 'text', (c) => c.primaryKey().references('virtual_accounts.id').onDelete('cascade'))
      .addColumn('mode', 'text', (c) => c.notNull())
      .addColumn('max_per_report', 'integer', (c) => c.notNull())
      .addColumn('auto_max_per_license', 'integer', (c) => c.notNull())
      .addColumn('auto_max_per_device', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('device_conversion_requests')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('va_id', 'text', (c) => c.notNull())
      .addColumn('instance_id', 'text', (c) => c.notNull())
      .addColumn('udi', 'text', (c) => c.notNull())
      .addColumn('legacy_id', 'text', (c) => c.notNull())
      .addColumn('tag', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text')
      .addColumn('count', 'integer', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('ends_at', 'bigint')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('requested_at', 'bigint', (c) => c.notNull())
      .addColumn('decided_at', 'bigint')
      .addColumn('decided_by', 'text')
      .execute();
    await db.schema
      .createIndex('device_conversion_requests_va')
      .on('device_conversion_requests')
      .columns(['va_id', 'status', 'requested_at'])
      .execute();
    await db.schema
      .createIndex('device_conversion_requests_udi')
      .on('device_conversion_requests')
      .columns(['udi', 'legacy_id'])
      .unique()
      .execute();
    // A device's automatic allowance is summed over its history rows.
    await db.schema.createIndex('conversions_udi').on('conversions').column('udi').execute();

    await db.schema.alterTable('tokens').addColumn('token_hash', 'text').execute();
    const rows = await sql<{ id: string; token: string }>`select id, token from tokens`.execute(db);
    for (const row of rows.rows) {
      const hash = createHash('sha256').update(row.token, 'utf8').digest('hex');
      await sql`update tokens set token_hash = ${hash}, token = ${`plain:${row.token}`} where id = ${row.id}`.execute(
        db,
      );
    }
    await db.schema.createIndex('tokens_token_hash').on('tokens').column('token_hash').unique().execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    const sealed = await sql<{ n: number }>`
      select count(*) as n from tokens where substr(token, 1, 6) <> 'plain:'`.execute(db);
    if (Number(sealed.rows[0]?.n ?? 0) > 0) {
      throw new Error('Token values are encrypted: a migration cannot decrypt them (it has no key).');
    }
    await sql`update tokens set token = substr(token, 7)`.execute(db);
    await db.schema.dropIndex('tokens_token_hash').execute();
    await db.schema.alterTable('tokens').dropColumn('token_hash').execute();
    await db.schema.dropIndex('conversions_udi').execute();
    await db.schema.dropTable('device_conversion_requests').execute();
    await db.schema.dropTable('va_conversion_settings').execute();
  },
};
