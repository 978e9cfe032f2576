import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { type ChangeFeed, createLocalChangeFeed } from './cluster/change-feed.js';
import { withStartupLock } from './cluster/startup-lock.js';
import { type DatabaseTarget, parseServerConfig, type ServerConfig, type ServerOptions } from './config.js';
import { prepareSecretsAtRest } from './crypto/secrets-at-rest.js';
import { ensureBootstrapAdminKey } from './features/api-keys/bootstrap-admin-key.js';
import { backupSourceOf } from './features/backup/backup-service.js';
import { type AuthorityPki, loadOrCreatePki } from './features/pki/authority-pki.js';
import {
  ensureTlsCertificate,
  loadTlsFiles,
  type TlsMaterial,
  TlsSetupError,
  tlsNames,
} from './features/pki/tls-certificate.js';
import type { WebhookJobs } from './features/webhooks/webhook-jobs.js';
import { buildApp } from './http/app.js';
import type { Logger } from './logger.js';
import { type OpenDatabase, openSqliteDatabase, rawDatabaseOf } from './storage/database.js';
import { migrateToLatest } from './storage/migrate.js';
import { createTransactor } from './storage/transactor.js';
import { SERVER_VERSION } from './version.js';

/** A started server. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8470`. */
  url: string;
  /** `<dataDir>/admin-api-key`. */
  adminKeyPath: string;
  /** True only on the start that created the admin key. */
  adminKeyCreated: boolean;
  /** `<dataDir>/pki/root-ca.pem`. */
  rootCaPath: string;
  /**
   * HTTPS, when on: `auto` (a certificate from the authority's CA, trusted by whoever trusts
   * `rootCaPath`, kept at `certPath`) or `files` (the operator's certificate at `certPath`).
   */
  tls?: { mode: 'auto' | 'files'; certPath: string };
  /** Stops listening, waits for requests in flight and queued writes, closes the database. */
  close(): Promise<void>;
  /** Background notification jobs (webhook delivery, daily summaries); tests call `runDue()` after advancing the clock. */
  webhookJobs: Pick<WebhookJobs, 'runDue'>;
}

/**
 * Starts the authority: data directory, database (migrated), PKI, secrets key and bootstrap
 * admin key (created on the first start), then the HTTP server. Logs go to stderr as pino JSON
 * (so that a host's own messages on stdout are never interleaved with them);
 * nothing else is printed. The database is a SQLite file or PostgreSQL (`dbUrl`); the data
 * directory holds the PKI and keys either way. Fails with a clear error for bad options, a
 * satellite mode (not implemented yet), an unusable data directory, a database that cannot be
 * opened or reached (refused login, no such database), a missing or wrong secrets key (when
 * the database holds secrets encrypted with it) or a busy port.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const config = parseServerConfig(options);
  ensureDataDir(config.dataDir);
  const logger = createLogger(config);
  const database = await openDatabase(config.database);
  let app: Awaited<ReturnType<typeof buildApp>> | undefined;
  let changes: ChangeFeed | undefined;
  try {
    await migrateToLatest(database.db);
    const transactor = createTransactor(database);
    // No scan of the usage here: the totals move with every usage change, in its transaction.
    // Processes started together on one database and data directory create the shared files once.
    const { pki, secrets, tls, adminKey } = await withStartupLock(config.database, async () => {
      const pki = await loadOrCreatePki({ dataDir: config.dataDir, clock: config.clock, logger });
      const secrets = await prepareSecretsAtRest({ dataDir: config.dataDir, db: database.db, transactor, logger });
      const tls = await prepareTls(config, pki, logger);
      const adminKey = await ensureBootstrapAdminKey({
        dataDir: config.dataDir,
        transactor,
        clock: config.clock,
        logger,
      });
      return { pki, secrets, tls, adminKey };
    });
    // Several processes may share a PostgreSQL database: each hears of the others' changes.
    changes =
      config.database.engine === 'postgres'
        ? await (await import('./cluster/postgres-change-feed.js')).openPostgresChangeFeed(config.database.url, {
            logger,
          })
        : createLocalChangeFeed();
    app = await buildApp({
      changes,
      db: database.db,
      raw: rawDatabaseOf(database),
      deviceStatements: database.deviceStatements,
      backup: backupSourceOf(config.dataDir, database),
      pki,
      clock: config.clock,
      logger,
      clockToleranceMs: config.clockToleranceMs,
      rateLimits: config.rateLimits,
      jobStartDelayMs: config.jobStartDelayMs,
      mode: config.mode,
      transactor,
      secrets,
      webhookTargets: { allowPrivate: config.webhookAllowPrivate, resolve: config.webhookResolver },
      ...(tls ? { https: tls.material } : {}),
    });
    await listen(app, config.host, config.port);
    const url = urlOf(tls ? 'https' : 'http', config.host, (app.server.address() as AddressInfo).port);
    logger.info(
      {
        url,
        dataDir: config.dataDir,
        database: config.database.engine,
        mode: config.mode,
        version: SERVER_VERSION,
        signingCertSerial: pki.signingCertSerial,
      },
      'smartlic server listening',
    );
    const running = app;
    const feed = changes;
    let closing: Promise<void> | undefined;
    return {
      url,
      adminKeyPath: adminKey.path,
      adminKeyCreated: adminKey.created,
      rootCaPath: pki.rootCaPath,
      ...(tls ? { tls: { mode: tls.mode, certPath: tls.certPath } } : {}),
      webhookJobs: running.webhookJobs,
      close: () => {
        closing ??= (async () => {
          try {
            await running.close();
          } finally {
            await feed.close();
            await database.close();
            logger.info('smartlic server stopped');
          }
        })();
        return closing;
      },
    };
  } catch (error) {
    await app?.close().catch(() => undefined);
    await changes?.close();
    await database.close();
    throw error;
  }
}

/**
 * Why the server could not start, as one sentence an operator can act on (taken port, unusable
 * data directory or database); the CLI prints it without "Unexpected error".
 */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/** Listens, turning a taken or forbidden port into one sentence that says what to do. */
async function listen(app: Awaited<ReturnType<typeof buildApp>>, host: string, port: number): Promise<void> {
  try {
    await app.listen({ host, port });
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    if (code === 'EADDRINUSE') {
      throw new StartupError(
        `Port ${port} on ${host} is already in use (is another smartlic server running?): stop it, or choose another port with --port.`,
        { cause },
      );
    }
    if (code === 'EACCES') {
      throw new StartupError(
        `Listening on port ${port} of ${host} is not allowed for this user: choose a port above 1023 with --port.`,
        {
          cause,
        },
      );
    }
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      throw new StartupError(`This machine has no address ${host} to listen on: choose another with --host.`, {
        cause,
      });
    }
    throw cause;
  }
}

function ensureDataDir(dir: string): void {
  if (existsSync(dir)) return;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  } catch (cause) {
    throw new StartupError(`Cannot create the data directory ${dir}: ${(cause as Error).message}`, { cause });
  }
}

async function openDatabase(target: DatabaseTarget): Promise<OpenDatabase> {
  if (target.engine === 'postgres') {
    try {
      // Loaded only here: the driver stays out of a SQLite server's start-up.
      const { openPostgresDatabase } = await import('./storage/postgres.js');
      return await openPostgresDatabase(target.url);
    } catch (cause) {
      throw new StartupError((cause as Error).message, { cause });
    }
  }
  try {
    return openSqliteDatabase(target.file);
  } catch (cause) {
    throw new StartupError(`Cannot open the database ${target.file}: ${(cause as Error).message}`, { cause });
  }
}

function createLogger(config: ServerConfig): Logger {
  return pino(
    {
      name: 'smartlic',
      level: config.logLevel,
      redact: {
        paths: ['req.headers.authorization', 'request.headers.authorization', 'headers.authorization'],
        censor: '[redacted]',
      },
    },
    pino.destination(2),
  );
}

function urlOf(scheme: 'http' | 'https', host: string, port: number): string {
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The certificate and key to serve HTTPS with, or undefined for plain HTTP; bad files stop the start. */
async function prepareTls(
  config: ServerConfig,
  pki: AuthorityPki,
  logger: Logger,
): Promise<{ mode: 'auto' | 'files'; certPath: string; material: TlsMaterial } | undefined> {
  const tls = config.tls;
  if (!tls) return undefined;
  try {
    if (tls.mode === 'files') {
      return { mode: 'files', certPath: tls.certFile, material: loadTlsFiles(tls.certFile, tls.keyFile) };
    }
    const names = tlsNames(config.host, tls.names);
    const issued = await ensureTlsCertificate({ dataDir: config.dataDir, pki, names, now: config.clock.now(), logger });
    return { mode: 'auto', certPath: issued.certPath, material: { cert: issued.cert, key: issued.key } };
  } catch (cause) {
    if (cause instanceof TlsSetupError) throw new StartupError(cause.message, { cause });
    throw cause;
  }
}
