import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOUR, ManualClock } from '@smartlic/protocol';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { prepareSecretsAtRest } from '../crypto/secrets-at-rest.js';
import { ensureBootstrapAdminKey } from '../features/api-keys/bootstrap-admin-key.js';
import { backupSourceOf } from '../features/backup/backup-service.js';
import { loadOrCreatePki } from '../features/pki/authority-pki.js';
import { PkiHolder } from '../features/pki/pki-holder.js';
import { type AppDeps, buildApp } from '../http/app.js';
import { DEFAULT_RATE_LIMITS } from '../http/rate-limits.js';
import { type Engine, type OpenDatabase, openSqliteDatabase, rawDatabaseOf } from '../storage/database.js';
import { migrateToLatest } from '../storage/migrate.js';
import { openPostgresDatabase } from '../storage/postgres.js';
import { createTransactor } from '../storage/transactor.js';
import { acquireTestDatabase, defaultTestEngine, type LeasedDatabase } from './postgres.js';
import { makeTempDir } from './temp-dir.js';
import { testResolver } from './test-resolver.js';

/** `buildApp` listening on 127.0.0.1:0 over a migrated database (SQLite file or fresh PostgreSQL database), with it at hand. */
export interface TestApp {
  engine: Engine;
  app: FastifyInstance;
  url: string;
  database: OpenDatabase;
  clock: ManualClock;
  ownerKey: string;
  dataDir: string;
  /** The PKI the app answers with (empty on a satellite until its registration). */
  pki: PkiHolder;
  dispose(): Promise<void>;
}

/**
 * `webhookAllowPrivate`: webhooks to 127.0.0.1 may be added and sent to (default false); names never resolve.
 * `engine`: default `SMARTLIC_TEST_ENGINE`, else sqlite.
 */
export async function startTestApp(
  options: {
    webhookAllowPrivate?: boolean;
    engine?: Engine;
    portalDir?: string;
    clock?: ManualClock;
    /** A satellite (`mode: 'satellite'`): no PKI of its own until it registers with an upstream. */
    satellite?: boolean;
    /** More dependencies of the app. */
    deps?: Partial<AppDeps>;
  } = {},
): Promise<TestApp> {
  const dir = makeTempDir();
  const clock = options.clock ?? new ManualClock();
  const engine = options.engine ?? defaultTestEngine();
  const testDatabase: LeasedDatabase | undefined = engine === 'postgres' ? await acquireTestDatabase() : undefined;
  const database = testDatabase
    ? await openPostgresDatabase(testDatabase.url)
    : openSqliteDatabase(join(dir.path, 'smartlic.db'));
  await migrateToLatest(database.db);
  const transactor = createTransactor(database);
  const pki = new PkiHolder(options.satellite ? null : await loadOrCreatePki({ dataDir: dir.path, clock }));
  const key = await ensureBootstrapAdminKey({ dataDir: dir.path, transactor, clock });
  const secrets = await prepareSecretsAtRest({ dataDir: dir.path, db: database.db, transactor });
  const app = await buildApp({
    db: database.db,
    raw: rawDatabaseOf(database),
    deviceStatements: database.deviceStatements,
    backup: backupSourceOf(dir.path, database),
    pki,
    ...(options.satellite ? { mode: 'satellite' as const } : {}),
    clock,
    logger: pino({ level: 'silent' }),
    transactor,
    secrets,
    webhookTargets: { allowPrivate: options.webhookAllowPrivate ?? false, resolve: testResolver() },
    rateLimits: DEFAULT_RATE_LIMITS,
    // Tests drive the jobs themselves (`job run`, `webhookJobs.runDue()`) after moving the clock.
    jobStartDelayMs: HOUR,
    ...(options.portalDir === undefined ? {} : { portalDir: options.portalDir }),
    ...options.deps,
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    engine,
    app,
    url,
    database,
    clock,
    ownerKey: readFileSync(key.path, 'utf8').trim(),
    dataDir: dir.path,
    pki,
    async dispose() {
      await app.close();
      await database.close();
      dir.remove();
      await testDatabase?.release();
    },
  };
}
