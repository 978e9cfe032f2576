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
  va_reported_names: VaReportedNameRow;
  va_silent_usage: VaSilentUsageRow;
  nonces: NonceRow;
  api_keys: ApiKeyRow;
  events: EventRow;
  tags: TagRow;
  usage_snapshots: UsageSnapshotRow;
  job_marks: JobMarkRow;
  users: UserRow;
  role_grants: RoleGrantRow;
  paks: PakRow;
  pak_skus: PakSkuRow;
  conversions: ConversionRow;
  device_conversions: DeviceConversionRow;
  webhooks: WebhookRow;
  webhook_deliveries: WebhookDeliveryRow;
  webhook_summaries: WebhookSummaryRow;
  va_reservation_settings: VaReservationSettingRow;
  reservations: ReservationRow;
  va_conversion_settings: VaConversionSettingRow;
  device_conversion_requests: DeviceConversionRequestRow;
  satellites: SatelliteRow;
  satellite_vas: SatelliteVaRow;
  sync_state: SyncStateRow;
  owner_credentials: OwnerCredentialRow;
  portal_sessions: PortalSessionRow;
  policy_reports: PolicyReportRow;
  policy_devices: PolicyDeviceRow;
  va_policies: VaPolicyRow;
  slac_authorizations: SlacAuthorizationRow;
}

/** A RUM report recorded (SPEC §9), once per report id. */
export interface PolicyReportRow {
  report_id: string;
  instance_id: string;
  /** The device's time of the report. */
  created_at: number;
  received_at: number;
}

/** A product instance of the policy model, and its newest report (whose usage is the instance's usage). */
export interface PolicyDeviceRow {
  instance_id: string;
  trusted_at: number;
  last_report_id: string | null;
  last_report_created_at: number | null;
  last_ack_at: number | null;
}

/** A Virtual Account's custom policy terms for one license class. */
export interface VaPolicyRow {
  va_id: string;
  license_class: string;
  first_report_days: number;
  frequency_days: number;
  on_change_days: number;
  updated_at: number;
}

/** A Smart Licensing Authorization Code issued to a policy device. */
export interface SlacAuthorizationRow {
  id: string;
  instance_id: string;
  /** JSON `[{tag, count}]`. */
  licenses: string;
  issued_at: number;
  returned_at: number | null;
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
  /**
   * The token, encrypted with the secrets key (`v1:…`, see `features/tokens/token-values.ts`;
   * `plain:<token>` between migration 0009 and the next start), so that users and admins can
   * copy it from the token list, as in the vendor's portal. Never looked up by.
   */
  token: string;
  /** SHA-256 of the token, hex: what registration looks the token up by (migration 0009). */
  token_hash: string;
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
  /** Status of the last authorization (`InCompliance`/`OutOfCompliance`); null before the first. */
  compliance_status?: string | null;
  /**
   * The ID certificate before the last renewal (serial, key as SPKI DER in base64, expiry),
   * accepted until the device first uses the current one; null otherwise.
   */
  previous_id_cert_serial?: string | null;
  previous_public_key_spki?: string | null;
  previous_id_cert_expires_at?: number | null;
  /** 1 while the instance's usage is counted in `va_silent_usage` (set by the silent-instance job). */
  silent_counted?: number;
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
 * instances a VA holds. `reconcileUsageTotals` checks and repairs them on demand (a full scan: not at start-up).
 */
export interface VaUsageRow {
  va_id: string;
  tag: string;
  in_use: number;
}

/**
 * How many of a VA's instances report `display_name` for `tag` (migration 0015), kept with the
 * usage like {@link VaUsageRow}, so that naming a tag reads no instance usage. Rows at zero are deleted.
 */
/**
 * Usage of the instances counted silent (`instances.silent_counted = 1`) per VA and tag, kept
 * in the same transaction as every change of such an instance (ADR 0011).
 */
export interface VaSilentUsageRow {
  va_id: string;
  tag: string;
  in_use: number;
}

export interface VaReportedNameRow {
  va_id: string;
  tag: string;
  display_name: string;
  instances: number;
}

export interface NonceRow {
  nonce: string;
  seen_at: number;
}

/** A person who administers Smart Accounts; authenticated by their API keys. */
export interface UserRow {
  id: string;
  email: string;
  created_at: number;
  /** The portal password, scrypt (`scrypt$N$r$p$salt$hash`, migration 0020); null: API keys only. */
  password_hash?: string | null;
}

/** The portal password of the bootstrap owner (`name` is `admin`; migration 0020). */
export interface OwnerCredentialRow {
  name: string;
  password_hash: string;
  created_at: number;
  updated_at: number;
}

/** How a portal session was opened: the owner's password, a user's password, or an API key. */
export type SessionKind = 'owner' | 'password' | 'api-key';

/**
 * A portal session (migration 0020, ADR 0016): found by the SHA-256 of its cookie value; it ends
 * after `last_seen_at` + the idle timeout, or at `expires_at` (absolute lifetime), or at sign-out.
 */
export interface PortalSessionRow {
  id: string;
  token_hash: string;
  kind: SessionKind;
  /** The user of a password session; null for the owner and API-key sessions. */
  user_id: string | null;
  /** The API key an `api-key` session acts as (its scope and revocation apply). */
  api_key_id: string | null;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}

/** A role of SPEC §2: admin manages people and everything else, user reads and changes, viewer reads. */
export type Role = 'admin' | 'user' | 'viewer';

/** A user's role on a whole Smart Account (`va_id` is '') or on one Virtual Account. */
export interface RoleGrantRow {
  user_id: string;
  account_id: string;
  va_id: string;
  role: Role;
  granted_at: number;
}

/** `owner`: the bootstrap key, allowed everything; `user`: a user's key, allowed what the user's roles allow. */
export type ApiKeyRole = 'owner' | 'user';

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
  /**
   * The place the key is limited to (migration 0010, ADR 0006): a Smart Account, and with
   * `scope_va_id` one of its VAs. Null: unscoped, the key carries every grant of its user.
   */
  scope_account_id?: string | null;
  scope_va_id?: string | null;
}

/** A product activation key imported into a Smart Account (migration 0006). */
export interface PakRow {
  id: string;
  account_id: string;
  number: string;
  order_number: string | null;
  /** 1 when part of the PAK may be converted; 0 when it converts whole or not at all. */
  partial_allowed: number;
  imported_at: number;
}

/** One SKU of a PAK: `quantity` licenses of `tag`, of which `converted` have been converted. */
export interface PakSkuRow {
  pak_id: string;
  sku: string;
  tag: string;
  display_name: string | null;
  quantity: number;
  converted: number;
  type: PoolType;
  ends_at: number | null;
}

/** The conversion history: one row per tag deposited, from a PAK or by a device. */
export interface ConversionRow {
  id: string;
  account_id: string;
  pak_id: string | null;
  sku: string | null;
  instance_id: string | null;
  /** `PID:<pid> SN:<sn>` for device-led conversions. */
  udi: string | null;
  legacy_id: string | null;
  va_id: string;
  tag: string;
  quantity: number;
  at: number;
  actor: string;
}

/** A legacy license a device has converted: once per UDI and legacy id. */
export interface DeviceConversionRow {
  udi: string;
  legacy_id: string;
  instance_id: string;
  at: number;
}

/** A webhook of a Smart Account; `events` is a JSON array of event types (empty: all). */
export interface WebhookRow {
  id: string;
  account_id: string;
  url: string;
  secret: string;
  events: string;
  created_at: number;
  disabled: number;
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One payload to deliver to a webhook, retried with backoff until delivered or failed. */
export interface WebhookDeliveryRow {
  id: string;
  webhook_id: string;
  event_type: string;
  payload: string;
  attempts: number;
  created_at: number;
  next_attempt_at: number | null;
  status: WebhookDeliveryStatus;
  last_error: string | null;
  delivered_at: number | null;
}

/** Up to when the daily event summary of an account has been queued. */
export interface WebhookSummaryRow {
  account_id: string;
  last_until: number;
}

/** The tag catalogue (license hierarchy, SPEC §2): a tag may name a parent (generic) tag. */
export interface TagRow {
  tag: string;
  display_name: string | null;
  parent_tag: string | null;
  created_at: number;
  updated_at: number;
}

/** Quantity and in-use of one tag in one VA on one UTC day (`YYYY-MM-DD`), taken by a job. */
export interface UsageSnapshotRow {
  va_id: string;
  tag: string;
  day: string;
  quantity: number;
  in_use: number;
  taken_at: number;
}

/** "This job already did this to that subject": what makes a second run of a job a no-op. */
export interface JobMarkRow {
  job: string;
  subject: string;
  at: number;
}

/** Whether a VA allows license reservation (SPEC §7); no row means not allowed. */
export interface VaReservationSettingRow {
  va_id: string;
  allowed: number;
  updated_at: number;
}

/**
 * `reserved`: an authorization code was issued (the first needs no confirmation);
 * `pending-confirmation`: an update was issued, waiting for the device's confirmation code;
 * `returned`: the device's return code was entered, the counts went back to the pool.
 */
export type ReservationStatus = 'reserved' | 'pending-confirmation' | 'returned';

/** One license reservation (SLR or PLR) of a device that never talks to the authority. */
export interface ReservationRow {
  id: string;
  va_id: string;
  /** The product instance that shows the reservation (removed on return). */
  instance_id: string;
  udi_pid: string;
  udi_sn: string;
  request_nonce: string;
  /** The device's X25519 reservation public key from the request code (base64url). */
  device_key: string;
  /** The authority's X25519 public key of this reservation (base64url). */
  authority_key: string;
  /** The HMAC key of confirmation and return codes (base64url); secret. */
  mac_key: string;
  /** Sequence of the latest authorization code issued. */
  sequence: number;
  /** Sequence the device is known to run: the first, or the latest confirmed. */
  confirmed_sequence: number;
  status: ReservationStatus;
  /** JSON `[{tag, count}]` of the latest authorization code. */
  licenses: string;
  /** JSON `[{tag, count}]` of the confirmed sequence. */
  confirmed_licenses: string;
  plr: number;
  created_at: number;
  updated_at: number;
  returned_at: number | null;
}

/**
 * Device-led conversion in a VA (migration 0009; no row: `off`). `on`: licenses under the
 * caps are deposited at once, the others wait for an administrator; `review`: every one waits.
 */
export type DeviceConversionMode = 'off' | 'on' | 'review';

/** A VA's device-led conversion settings and caps. */
export interface VaConversionSettingRow {
  va_id: string;
  mode: DeviceConversionMode;
  /** Most licenses (sum of counts of newly reported legacy licenses) one report may ask for; more is refused. */
  max_per_report: number;
  /** Most licenses one legacy license may carry to be deposited without an administrator. */
  auto_max_per_license: number;
  /** Most licenses one device (UDI) may have deposited without an administrator, over all its reports. */
  auto_max_per_device: number;
  updated_at: number;
}

/** `approved` by the caps (`decided_by` 'auto') or an administrator; `pending` one; `rejected` by one. */
export type DeviceConversionStatus = 'pending' | 'approved' | 'rejected';

/** Why a reported legacy license was (or was not) deposited at once. */
export type DeviceConversionReason = 'under-caps' | 'review' | 'over-license-cap' | 'over-device-cap';

/** One legacy license a device reported (once per UDI and legacy id), and what became of it. */
export interface DeviceConversionRequestRow {
  id: string;
  account_id: string;
  va_id: string;
  instance_id: string;
  udi: string;
  legacy_id: string;
  tag: string;
  display_name: string | null;
  count: number;
  type: PoolType;
  ends_at: number | null;
  status: DeviceConversionStatus;
  reason: DeviceConversionReason;
  requested_at: number;
  decided_at: number | null;
  /** 'auto', or the actor (`user:<email>`, `key:<name>`) who approved or rejected it. */
  decided_by: string | null;
}

/**
 * A satellite this node created and serves (migration 0016): its registration token until it
 * registers, then its key and certificate, and the sync bookkeeping (ADR 0012).
 */
export interface SatelliteRow {
  id: string;
  account_id: string;
  name: string;
  /** SHA-256 (hex) of the one-time registration token; null once used. */
  token_hash: string | null;
  token_expires_at: number;
  /** The satellite's public key (SPKI PEM), which signs its sync requests. */
  public_key_pem: string | null;
  certificate_pem: string | null;
  certificate_not_after: number | null;
  registered_at: number | null;
  version: string | null;
  last_sync_up_at: number | null;
  last_sync_down_at: number | null;
  sync_due_at: number | null;
  /** Sequence of the last request applied (0: registration). */
  sync_sequence: number;
  /** SHA-256 (hex) of the signed bytes of that request, and the response document given to it. */
  last_request_digest: string | null;
  last_response: string | null;
  created_at: number;
}

/** A VA served by a satellite: one serving node per VA. */
export interface SatelliteVaRow {
  va_id: string;
  satellite_id: string;
}

/** A satellite's own sync state: one row, `id` 'self' (migration 0016). */
export interface SyncStateRow {
  id: string;
  satellite_id: string | null;
  name: string | null;
  account_id: string | null;
  upstream: string | null;
  /** Subject of the certificate that signed the registration response: later responses must come from it. */
  upstream_signer: string | null;
  /** The authority's root certificate, as registration brought it. */
  root_ca_pem: string | null;
  registered_at: number | null;
  /** Sequence of the last request built. */
  sequence: number;
  /** Sequence of the last response applied. */
  applied_sequence: number;
  /** The request document waiting for its response (re-sent as is until answered). */
  pending_request: string | null;
  /** Its kind and the SHA-256 of its signed bytes (what its response names), so that checking a response reads neither. */
  pending_kind: 'registration-request' | 'sync-request' | null;
  pending_digest: string | null;
  /** The journal cursors that request covers; they become the acknowledged ones with its response. */
  pending_event_cursor: string | null;
  pending_contact_cursor: number | null;
  /** Last event id acknowledged by the upstream ('' = none). */
  event_cursor: string;
  /** Instances contacted after this time (ms) are sent with the next request. */
  contact_cursor: number;
  /** Days between scheduled syncs; null: off. */
  schedule_days: number | null;
  last_sync_up_at: number | null;
  last_sync_down_at: number | null;
  sync_due_at: number | null;
  certificate_not_after: number | null;
  last_error: string | null;
  last_attempt_at: number | null;
  created_at: number;
}
