import type { Migration, MigrationProvider } from 'kysely';
import { initialMigration } from './migrations/0001-initial.js';
import { eventLogMigration } from './migrations/0002-event-log.js';
import { peopleAndAccessMigration } from './migrations/0003-people-and-access.js';
import { licenseLifecycleMigration } from './migrations/0004-license-lifecycle.js';
import { reservationsMigration } from './migrations/0005-reservations.js';
import { conversionAndWebhooksMigration } from './migrations/0006-conversion-and-webhooks.js';
import { previousIdCertificateMigration } from './migrations/0007-previous-id-certificate.js';
import { webhookSecretsAtRestMigration } from './migrations/0008-webhook-secrets-at-rest.js';
import { conversionReviewAndTokenHashesMigration } from './migrations/0009-conversion-review-and-token-hashes.js';
import { scopedApiKeysMigration } from './migrations/0010-scoped-api-keys.js';
import { fleetScaleMigration } from './migrations/0015-fleet-scale.js';
import { satellitesMigration } from './migrations/0016-satellites.js';
import { silentUsageMigration } from './migrations/0019-silent-usage.js';
import { portalSessionsMigration } from './migrations/0020-portal-sessions.js';
import { smartLicensingUsingPolicyMigration } from './migrations/0021-smart-licensing-using-policy.js';

/**
 * Every migration, in order, defined in code (not found by scanning a folder) so that the
 * built `dist` carries them. Never edit a released migration: add the next one.
 */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001-initial': initialMigration,
  '0002-event-log': eventLogMigration,
  '0003-people-and-access': peopleAndAccessMigration,
  '0004-license-lifecycle': licenseLifecycleMigration,
  '0005-reservations': reservationsMigration,
  '0006-conversion-and-webhooks': conversionAndWebhooksMigration,
  '0007-previous-id-certificate': previousIdCertificateMigration,
  '0008-webhook-secrets-at-rest': webhookSecretsAtRestMigration,
  '0009-conversion-review-and-token-hashes': conversionReviewAndTokenHashesMigration,
  '0010-scoped-api-keys': scopedApiKeysMigration,
  '0015-fleet-scale': fleetScaleMigration,
  '0016-satellites': satellitesMigration,
  '0019-silent-usage': silentUsageMigration,
  '0020-portal-sessions': portalSessionsMigration,
  '0021-smart-licensing-using-policy': smartLicensingUsingPolicyMigration,
};

/** Kysely's provider over {@link MIGRATIONS}. */
export const migrationProvider: MigrationProvider = {
  getMigrations: async () => ({ ...MIGRATIONS }),
};
