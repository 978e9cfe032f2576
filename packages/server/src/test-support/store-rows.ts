import type { Kysely } from 'kysely';
import type { Database, InstanceRow, SatelliteRow } from '../storage/schema.js';

/**
 * A row of `instances` for a store test: a device of `vaId` (PID `P`, SN its id) registered at 0,
 * with placeholder key and certificate; `fields` override any column.
 */
export function instanceRow(id: string, vaId: string, fields: Partial<InstanceRow> = {}): InstanceRow {
  return {
    id,
    va_id: vaId,
    token_id: null,
    pid: 'P',
    sn: id,
    hostname: null,
    software_tag: 't',
    public_key_spki: 'k',
    id_cert_pem: 'c',
    id_cert_serial: '1',
    id_cert_expires_at: 1,
    registered_at: 0,
    last_contact_at: 0,
    export_controlled: 0,
    ...fields,
  };
}

/** Inserts Smart Account `sa` (domain `a.example`) and its Virtual Accounts `vaIds` (named after their ids). */
export async function insertAccountWithVas(db: Kysely<Database>, vaIds: readonly string[]): Promise<void> {
  await db.insertInto('smart_accounts').values({ id: 'sa', name: 'A', domain: 'a.example', created_at: 0 }).execute();
  for (const id of vaIds) {
    await db.insertInto('virtual_accounts').values({ id, account_id: 'sa', name: id, created_at: 0 }).execute();
  }
}

/**
 * A row of `satellites` for a store test: satellite `id` of `accountId`, created but not yet
 * registered (no token, key, certificate or sync) at `at`; `fields` override any column.
 */
export function satelliteRow(
  id: string,
  accountId: string,
  name: string,
  at: number,
  fields: Partial<SatelliteRow> = {},
): SatelliteRow {
  return {
    id,
    account_id: accountId,
    name,
    token_hash: null,
    token_expires_at: at,
    public_key_pem: null,
    certificate_pem: null,
    certificate_not_after: null,
    registered_at: null,
    version: null,
    last_sync_up_at: null,
    last_sync_down_at: null,
    sync_due_at: null,
    sync_sequence: 0,
    last_request_digest: null,
    last_response: null,
    created_at: at,
    ...fields,
  };
}
