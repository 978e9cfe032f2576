/**
 * The database schema as Kysely sees it. Ids are text (UUIDs), times are integer
 * milliseconds since the epoch (bigint columns), booleans are integers 0/1, so that the
 * same schema runs on SQLite and PostgreSQL.
 */
export interface Database {
  smart_accounts: SmartAccountRow;
  virtual_accounts: VirtualAccountRow;
  license_pools: LicensePoolRow;
  tokens: TokenRow;
  instances: InstanceRow;
  instance_usage: InstanceUsageRow;
  va_usage: VaUsageRow;
  nonces: NonceRow;
  api_keys: ApiKeyRow;
  events: EventRow;
}

/** One entry of the event log; `detail` is a JSON object. */
export interface EventRow {
  id: string;
  at: number;
  account_id: string | null;
  va_id: string | null;
  actor: string;
  type: string;
  detail: string;
}

export interface SmartAccountRow {
  id: string;
  name: string;
  domain: string;
  created_at: number;
}

export interface VirtualAccountRow {
  id: string;
  account_id: string;
  name: string;
  created_at: number;
}

export type PoolType = 'perpetual' | 'term' | 'subscription';

export interface LicensePoolRow {
  id: string;
  va_id: string;
  tag: string;
  display_name: string | null;
  quantity: number;
  type: PoolType;
  starts_at: number;
  ends_at: number | null;
  created_at: number;
}

export interface TokenRow {
  id: string;
  va_id: string;
  /** The token itself: operators copy it from the token list, as in the vendor's portal. */
  token: string;
  description: string;
  created_at: number;
  expires_at: number;
  max_uses: number | null;
  uses: number;
  export_controlled: number;
  revoked_at: number | null;
}

export interface InstanceRow {
  id: string;
  va_id: string;
  token_id: string | null;
  pid: string;
  sn: string;
  hostname: string | null;
  software_tag: string;
  /** The device's public key, SPKI DER in base64. */
  public_key_spki: string;
  id_cert_pem: string;
  id_cert_serial: string;
  id_cert_expires_at: number;
  registered_at: number;
  last_contact_at: number;
  export_controlled: number;
}

/** What one instance reports in use; only counts above zero are stored. */
export interface InstanceUsageRow {
  instance_id: string;
  tag: string;
  count: number;
  display_name: string | null;
}

/**
 * Running total of `instance_usage.count` per VA and tag, kept in the same transaction as
 * every change of `instance_usage`, so that compliance costs one indexed read however many
 * instances a VA holds. Checked and repaired at start-up (`reconcileUsageTotals`).
 */
export interface VaUsageRow {
  va_id: string;
  tag: string;
  in_use: number;
}

export interface NonceRow {
  nonce: string;
  seen_at: number;
}

export type ApiKeyRole = 'owner';

export interface ApiKeyRow {
  id: string;
  /** SHA-256 of the key, hex; the key itself is never stored. */
  hash: string;
  name: string;
  role: ApiKeyRole;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
  user_id: string | null;
}
