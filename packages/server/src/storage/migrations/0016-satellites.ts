import type { Kysely, Migration } from 'kysely';

/**
 * Satellites and their synchronisation (SPEC §8, ADR 0012):
 * - `satellites`: on a node that serves satellites (the authority, or a middle satellite), each
 *   satellite it created: its one-time registration token (hash), its public key and signing CA
 *   certificate once registered, and the sync bookkeeping — the last sequence applied, the digest
 *   of that request and the response given to it (a re-sent request gets it again).
 * - `satellite_vas`: the VAs a satellite serves; the primary key on `va_id` makes one serving node per VA.
 * - `sync_state`: on a satellite, one row (`id` 'self'): who it is, its upstream, its schedule,
 *   the journal cursor acknowledged by the upstream and the request waiting for its response.
 */
export const satellitesMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('satellites')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull().references('smart_accounts.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('token_hash', 'text')
      .addColumn('token_expires_at', 'bigint', (c) => c.notNull())
      .addColumn('public_key_pem', 'text')
      .addColumn('certificate_pem', 'text')
      .addColumn('certificate_not_after', 'bigint')
      .addColumn('registered_at', 'bigint')
      .addColumn('version', 'text')
      .addColumn('last_sync_up_at', 'bigint')
      .addColumn('last_sync_down_at', 'bigint')
      .addColumn('sync_due_at', 'bigint')
      .addColumn('sync_sequence', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('last_request_digest', 'text')
      .addColumn('last_response', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('satellites_account').on('satellites').column('account_id').execute();
    await db.schema
      .createTable('satellite_vas')
      .addColumn('va_id', 'text', (c) => c.primaryKey().references('virtual_accounts.id').onDelete('cascade'))
      .addColumn('satellite_id', 'text', (c) => c.notNull().references('satellites.id').onDelete('cascade'))
      .execute();
    await db.schema.createIndex('satellite_vas_satellite').on('satellite_vas').column('satellite_id').execute();
    await db.schema
      .createTable('sync_state')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('satellite_id', 'text')
      .addColumn('name', 'text')
      .addColumn('account_id', 'text')
      .addColumn('upstream', 'text')
      .addColumn('upstream_signer', 'text')
      .addColumn('root_ca_pem', 'text')
      .addColumn('registered_at', 'bigint')
      .addColumn('sequence', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('applied_sequence', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('pending_request', 'text')
      .addColumn('pending_kind', 'text')
      .addColumn('pending_digest', 'text')
      .addColumn('pending_event_cursor', 'text')
      .addColumn('pending_contact_cursor', 'bigint')
      .addColumn('event_cursor', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('contact_cursor', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('schedule_days', 'bigint')
      .addColumn('last_sync_up_at', 'bigint')
      .addColumn('last_sync_down_at', 'bigint')
      .addColumn('sync_due_at', 'bigint')
      .addColumn('certificate_not_after', 'bigint')
      .addColumn('last_error', 'text')
      .addColumn('last_attempt_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('sync_state').execute();
    await db.schema.dropTable('satellite_vas').execute();
    await db.schema.dropTable('satellites').execute();
  },
};
