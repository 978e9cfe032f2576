import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { parseServerConfig, type ServerConfig, type ServerOptions } from './config.js';
import { prepareSecretsAtRest } from './crypto/secrets-at-rest.js';
import { ensureBootstrapAdminKey } from './features/api-keys/bootstrap-admin-key.js';
import { loadOrCreatePki } from './features/pki/authority-pki.js';
import type { WebhookJobs } from './features/webhooks/webhook-jobs.js';
import { buildApp } from './http/app.js';
import type { Logger } from './logger.js';
import { type OpenDatabase, openSqliteDatabase } from './storage/database.js';
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
  /** Stops listening, waits for requests in flight and queued writes, closes the database. */
  close(): Promise<void>;
  /** Background notification jobs (webhook delivery, daily summaries); tests call `runDue()` after advancing the clock. */
  webhookJobs: Pick<WebhookJobs, 'runDue'>;
}

/**
 * Starts the authority: data directory, database (migrated), PKI, secrets key and bootstrap
 * admin key (created on the first start), then the HTTP server. Logs go to stderr as pino JSON
 * (so that a host's own messages on stdout are never interleaved with them);
 * nothing else is printed. Fails with a clear error for bad options, a satellite mode or a
 * PostgreSQL URL (not implemented yet), an unusable data directory, a missing or wrong
 * secrets key (when the database holds secrets encrypted with it) or a busy port.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const config = parseServerConfig(options);
  ensureDataDir(config.dataDir);
  const logger = createLogger(config);
  const database = openDatabase(config.dbFile);
  let app: Awaited<ReturnType<typeof buildApp>> | undefined;
  try {
    await migrateToLatest(database.db);
    const transactor = createTransactor(database.db);
    // No scan of the usage here: the totals move with every usage change, in its transaction.
    const pki = await loadOrCreatePki({ dataDir: config.dataDir, clock: config.clock, logger });
    const secrets = await prepareSecretsAtRest({ dataDir: config.dataDir, db: database.db, transactor, logger });
    const adminKey = await ensureBootstrapAdminKey({
      dataDir: config.dataDir,
      transactor,
      clock: config.clock,
      logger,
    });
    app = await buildApp({
      db: database.db,
      pki,
      clock: config.clock,
      logger,
      clockToleranceMs: config.clockToleranceMs,
      rateLimits: config.rateLimits,
      mode: config.mode,
      transactor,
      secrets,
      webhookTargets: { allowPrivate: config.webhookAllowPrivate, resolve: config.webhookResolver },
    });
    await listen(app, config.host, config.port);
    const url = urlOf(config.host, (app.server.address() as AddressInfo).port);
    logger.info(
      {
        url,
        dataDir: config.dataDir,
        mode: config.mode,
        version: SERVER_VERSION,
        signingCertSerial: pki.signingCertSerial,
      },
      'smartlic server listening',
    );
    const running = app;
    let closing: Promise<void> | undefined;
    return {
      url,
      adminKeyPath: adminKey.path,
      adminKeyCreated: adminKey.created,
      rootCaPath: pki.rootCaPath,
      webhookJobs: running.webhookJobs,
      close: () => {
        closing ??= (async () => {
          try {
            await running.close();
          } finally {
            await database.close();
            logger.info('smartlic server stopped');
          }
        })();
        return closing;
      },
    };
  } catch (error) {
    await app?.close().catch(() => undefined);
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

function openDatabase(file: string): OpenDatabase {
  try {
    return openSqliteDatabase(file);
  } catch (cause) {
    throw new StartupError(`Cannot open the database ${file}: ${(cause as Error).message}`, { cause });
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

function urlOf(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
