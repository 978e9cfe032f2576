import type { Migration, MigrationProvider } from 'kysely';
import { initialMigration } from './migrations/0001-initial.js';
import { eventLogMigration } from './migrations/0002-event-log.js';

/**
 * Every migration, in order, defined in code (not found by scanning a folder) so that the
 * built `dist` carries them. Never edit a released migration: add the next one.
 */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001-initial': initialMigration,
  '0002-event-log': eventLogMigration,
};

/** Kysely's provider over {@link MIGRATIONS}. */
export const migrationProvider: MigrationProvider = {
  getMigrations: async () => ({ ...MIGRATIONS }),
};
