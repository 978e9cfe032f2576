import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { type ChangeFeed, createLocalChangeFeed } from './cluster/change-feed.js';
import { withStartupLock } from './cluster/startup-lock.js';
import { type DatabaseTarget, parseServerConfig, type ServerConfig, type ServerOptions } from './config.js';
import { prepareSecretsAtRest } from './crypto/secrets-at-rest.js';
import { ensureBootstrapAdminKey } from './features/api-keys/bootstrap-admin-key.js';
import { backupSourceOf } from './features/backup/backup-service.js';
import { loadOrCreatePki } from './features/pki/authority-pki.js';
import { pkiPaths } from './features/pki/pki-files.js';
import { PkiHolder } from './features/pki/pki-holder.js';
import { loadSatellitePki } from './features/pki/satellite-pki.js';
import {
  ensureTlsCertificate,
  loadTlsFiles,
  type TlsMaterial,
  TlsSetupError,
  tlsNames,
} from './features/pki/tls-certificate.js';
import { ensureOwnerPassword } from './features/sessions/bootstrap-owner-password.js';
import type { WebhookJobs } from './features/webhooks/webhook-jobs.js';
import { buildApp } from './http/app.js';
import type { Logger } from './logger.js';
import { type OpenDatabase, openSqliteDatabase, rawDatabaseOf } from './storage/database.js';
import { migrateToLatest } from './storage/migrate.js';
import { createTransactor } from './storage/transactor.js';
import { keepHelperThreadsLowered } from './util/helper-threads.js';
import { SERVER_VERSION } from './version.js';

/** A started server. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8470`. */
  url: string;
  /** `<dataDir>/admin-api-key`. */
  adminKeyPath: string;
  /** True only on the start that created the admin key. */
  adminKeyCreated: boolean;
  /** `<dataDir>/admin-password`: the portal password of the owner `admin`. */
  adminPasswordPath: string;
  /** True only on the start that created the admin password. */
  adminPasswordCreated: boolean;
  /** Whether `adminPasswordPath` exists (an operator may have removed it after noting the password). */
  adminPasswordPresent: boolean;
  /** `<dataDir>/pki/root-ca.pem` (on a satellite not registered yet, where it will be). */
  rootCaPath: string;
  /** `authority` or `satellite`. */
  mode: 'authority' | 'satellite';
  /**
   * The PKI the server answers devices with; empty (`ready` false) on a satellite until its
   * registration installs a certificate, which takes effect at once.
   */
  pki: PkiHolder;
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
 * Starts the server — the authority, or a satellite (`mode: 'satellite'`, SPEC §8): data
 * directory, database (migrated), PKI, secrets key and bootstrap admin key (created on the first
 * start), then the HTTP server. The authority creates its root and signing CA on the first
 * start; a satellite never creates a root: it starts without a signing certificate, serves its
 * admin API and answers devices `SATELLITE_NOT_REGISTERED` until a registration installs one,
 * and alarms (WARN) from 60 days before that certificate expires. Logs go to stderr as pino JSON
 * (so that a host's own messages on stdout are never interleaved with them); nothing else is
 * printed. The database is a SQLite file or PostgreSQL (`dbUrl`); the data directory holds the
 * PKI and keys either way. Fails with a clear error for bad options, an authority's data
 * directory started as a satellite, an unusable data directory, a database that cannot be
 * opened or reached (refused login, no such database), a missing or wrong secrets key (when the
 * database holds secrets encrypted with it) or a busy port.
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
    const { pki, secrets, tls, adminKey, adminPassword } = await withStartupLock(config.database, async () => {
      const pki = await loadPki(config, logger);
      const secrets = await prepareSecretsAtRest({ dataDir: config.dataDir, db: database.db, transactor, logger });
      const tls = await prepareTls(config, pki, logger);
      const adminKey = await ensureBootstrapAdminKey({
        dataDir: config.dataDir,
        transactor,
        clock: config.clock,
        logger,
      });
      const adminPassword = await ensureOwnerPassword({
        dataDir: config.dataDir,
        transactor,
        clock: config.clock,
        logger,
      });
      return { pki, secrets, tls, adminKey, adminPassword };
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
      ...(config.upstream ? { upstream: config.upstream } : {}),
      clock: config.clock,
      logger,
      clockToleranceMs: config.clockToleranceMs,
      rateLimits: config.rateLimits,
      jobStartDelayMs: config.jobStartDelayMs,
      sessionIdleMs: config.sessionIdleMinutes * 60_000,
      portalDir: config.portalDir,
      mode: config.mode,
      transactor,
      secrets,
      webhookTargets: { allowPrivate: config.webhookAllowPrivate, resolve: config.webhookResolver },
      ...(tls ? { https: tls.material } : {}),
    });
    await listen(app, config.host, config.port);
    // By now the thread pool has started (files were read on it), and so has every worker.
    const stopLowering = keepHelperThreadsLowered(config.helperNice);
    const url = urlOf(tls ? 'https' : 'http', config.host, (app.server.address() as AddressInfo).port);
    const signing = pki.peek();
    logger.info(
      {
        url,
        dataDir: config.dataDir,
        database: config.database.engine,
        mode: config.mode,
        ...(config.mode === 'satellite' ? { registered: signing !== null, upstream: config.upstream } : {}),
        version: SERVER_VERSION,
        signingCertSerial: signing?.signingCertSerial,
      },
      startMessage(config.mode, signing !== null),
    );
    const running = app;
    const feed = changes;
    let closing: Promise<void> | undefined;
    return {
      url,
      adminKeyPath: adminKey.path,
      adminKeyCreated: adminKey.created,
      adminPasswordPath: adminPassword.path,
      adminPasswordCreated: adminPassword.created,
      adminPasswordPresent: adminPassword.present,
      rootCaPath: pkiPaths(config.dataDir).rootCert,
      mode: config.mode,
      pki,
      ...(tls ? { tls: { mode: tls.mode, certPath: tls.certPath } } : {}),
      webhookJobs: running.webhookJobs,
      close: () => {
        closing ??= (async () => {
          stopLowering();
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
      return await openPostgresDatabase(target.url, { poolSize: target.poolSize });
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
  holder: PkiHolder,
  logger: Logger,
): Promise<{ mode: 'auto' | 'files'; certPath: string; material: TlsMaterial } | undefined> {
  const tls = config.tls;
  if (!tls) return undefined;
  try {
    if (tls.mode === 'files') {
      return { mode: 'files', certPath: tls.certFile, material: loadTlsFiles(tls.certFile, tls.keyFile) };
    }
    const pki = holder.peek();
    if (!pki) {
      throw new StartupError(
        'A satellite issues its --tls auto certificate from its signing certificate, which it gets at registration: start it without --tls auto (or with --tls-cert/--tls-key), register it, then restart it with --tls auto.',
      );
    }
    const names = tlsNames(config.host, tls.names);
    const issued = await ensureTlsCertificate({ dataDir: config.dataDir, pki, names, now: config.clock.now(), logger });
    return { mode: 'auto', certPath: issued.certPath, material: { cert: issued.cert, key: issued.key } };
  } catch (cause) {
    if (cause instanceof TlsSetupError) throw new StartupError(cause.message, { cause });
    throw cause;
  }
}

/**
 * The PKI to start with: the authority's (created on the first start), or a satellite's, which
 * is empty until its registration. A satellite never creates a root; a data directory holding a
 * root key is an authority's and is not started as a satellite.
 */
async function loadPki(config: ServerConfig, logger: Logger): Promise<PkiHolder> {
  if (config.mode === 'authority') {
    return new PkiHolder(await loadOrCreatePki({ dataDir: config.dataDir, clock: config.clock, logger }));
  }
  const paths = pkiPaths(config.dataDir);
  if (existsSync(paths.rootKey)) {
    throw new StartupError(
      `${config.dataDir} is an authority's data directory (it holds ${paths.rootKey}): start it without --mode satellite, or give the satellite a data directory of its own.`,
    );
  }
  try {
    return new PkiHolder(await loadSatellitePki({ dataDir: config.dataDir, clock: config.clock, logger }));
  } catch (cause) {
    throw new StartupError((cause as Error).message, { cause });
  }
}

/** The start log line: which mode, and for a satellite whether it can serve devices yet. */
function startMessage(mode: 'authority' | 'satellite', registered: boolean): string {
  if (mode === 'authority') return 'smartlic server listening';
  return registered
    ? 'smartlic satellite listening: registered, serving devices'
    : 'smartlic satellite listening: not registered yet, devices are asked to try again (register it with smartlic admin sync register)';
}
