import type { z } from 'zod';
import type {
  AccountView as AccountViewSchema,
  VirtualAccountView as VirtualAccountViewSchema,
} from './features/accounts/account-schemas.js';
import type { EventPage as EventPageSchema, EventView as EventViewSchema } from './features/events/event-schemas.js';
import type {
  CreatedReservationAnswer as CreatedReservationAnswerSchema,
  ReservationAnswer as ReservationAnswerSchema,
} from './features/reservations/reservation-schemas.js';
import type { SatelliteView as SatelliteViewSchema } from './features/satellites/satellite-schemas.js';
import type {
  CreatedTokenView as CreatedTokenViewSchema,
  TokenView as TokenViewSchema,
} from './features/tokens/token-schemas.js';
import type {
  ApiKeyCreated as ApiKeyCreatedSchema,
  ApiKeyView as ApiKeyViewSchema,
  PasswordSet as PasswordSetSchema,
  RoleRemoved as RoleRemovedSchema,
  UserCreated as UserCreatedSchema,
  UserView as UserViewSchema,
} from './features/users/user-schemas.js';

export type { ServerConfig, ServerOptions, TlsOptions } from './config.js';
export { DEFAULT_PORT, parseServerConfig } from './config.js';
export type { BackupEntry, BackupHeader } from './features/backup/backup-archive.js';
export { BackupFileError, verifyBackupFile } from './features/backup/backup-archive.js';
export { restoreBackup } from './features/backup/backup-restore.js';
export { BACKUP_MEDIA_TYPE } from './features/backup/backup-routes.js';
export type { BackupSource } from './features/backup/backup-service.js';
export { POSTGRES_BACKUP_MESSAGE } from './features/backup/backup-service.js';
export type { ReconcileResult } from './features/compliance/usage-reconcile.js';
export type {
  ConversionSettingsView,
  DeviceConversionView,
} from './features/conversion/device-conversion-schemas.js';
export type { ConversionView, PakSkuView, PakView } from './features/conversion/pak-service.js';
export type { TagForecast } from './features/forecast/forecast-service.js';
export type { InstancePage, InstanceService, InstanceView } from './features/instances/instance-service.js';
export type { LicensePoolView, LicenseSummary } from './features/licenses/license-service.js';
export type { TransferResult as LicenseTransferResult } from './features/licenses/license-transfer.js';
export type { AuthorityPki } from './features/pki/authority-pki.js';
export { loadOrCreatePki } from './features/pki/authority-pki.js';
export { PkiHolder } from './features/pki/pki-holder.js';
export type { SatelliteCaIssuer } from './features/pki/satellite-pki.js';
export {
  ensureSatelliteKey,
  installSatelliteCertificate,
  issueSatelliteCa,
  loadSatellitePki,
  satelliteCaIssuer,
} from './features/pki/satellite-pki.js';
export type { ReservationService } from './features/reservations/reservation-service.js';
export type { SatelliteAlert, SyncHealthInput } from './features/satellites/satellite-health.js';
export {
  certificateNeedsRenewal,
  GOOD_HEALTH,
  satelliteAlertList,
  satelliteAlerts,
  satelliteHealth,
} from './features/satellites/satellite-health.js';
export type { TagView } from './features/tags/tag-service.js';
export type { DeliveryView, WebhookService, WebhookView } from './features/webhooks/webhook-service.js';
export type { HostResolver, ResolvedAddress, WebhookTargetPolicy } from './features/webhooks/webhook-target.js';
export type { AppDeps } from './http/app.js';
export { buildApp } from './http/app.js';
export type { JobsOutcome } from './jobs/run-jobs.js';
export type { RunningServer } from './start-server.js';
export { StartupError, startServer } from './start-server.js';
export type { OpenDatabase } from './storage/database.js';
export { openSqliteDatabase } from './storage/database.js';
export { migrateToLatest } from './storage/migrate.js';
export type { Database } from './storage/schema.js';
export type { Transactor } from './storage/transactor.js';
export { createTransactor } from './storage/transactor.js';
export { SERVER_VERSION } from './version.js';

// The admin API's answers declared as zod schemas, as types (for the CLI's admin client).
export type AccountView = z.output<typeof AccountViewSchema>;
export type VirtualAccountView = z.output<typeof VirtualAccountViewSchema>;
export type EventView = z.output<typeof EventViewSchema>;
export type EventPage = z.output<typeof EventPageSchema>;
export type TokenView = z.output<typeof TokenViewSchema>;
export type CreatedTokenView = z.output<typeof CreatedTokenViewSchema>;
export type UserCreated = z.output<typeof UserCreatedSchema>;
export type UserView = z.output<typeof UserViewSchema>;
export type ApiKeyView = z.output<typeof ApiKeyViewSchema>;
export type ApiKeyCreated = z.output<typeof ApiKeyCreatedSchema>;
export type RoleRemoved = z.output<typeof RoleRemovedSchema>;
export type PasswordSet = z.output<typeof PasswordSetSchema>;
export type CreatedReservationAnswer = z.output<typeof CreatedReservationAnswerSchema>;
export type ReservationAnswer = z.output<typeof ReservationAnswerSchema>;
export type SatelliteView = z.output<typeof SatelliteViewSchema>;
