import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOUR, ManualClock, type SignatureAlgorithm } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import type { ServerOptions } from '../config.js';
import type { HostResolver } from '../features/webhooks/webhook-target.js';
import { type RunningServer, startServer } from '../start-server.js';
import { type Engine, type OpenDatabase, openSqliteDatabase } from '../storage/database.js';
import { openPostgresDatabase } from '../storage/postgres.js';
import type { Database } from '../storage/schema.js';
import { AdminClient } from './admin-client.js';
import { acquireTestDatabase, defaultTestEngine, type LeasedDatabase } from './postgres.js';
import { SimDevice } from './sim-device.js';
import { makeTempDir } from './temp-dir.js';
import { testResolver } from './test-resolver.js';

/**
 * A real server on 127.0.0.1, port 0, with a manual clock, over a SQLite file in a temp dir or a
 * fresh PostgreSQL database of the run's cluster.
 */
export interface TestServer {
  url: string;
  dataDir: string;
  engine: Engine;
  /** The PostgreSQL database (pass it with `dataDir` to start the same server again); undefined on SQLite. */
  dbUrl: string | undefined;
  clock: ManualClock;
  server: RunningServer;
  admin: AdminClient;
  rootCaPem: string;
  device(pid?: string, sn?: string, alg?: SignatureAlgorithm): SimDevice;
  /** Reads (or alters) the server's database over a connection of its own, whichever the engine; write portable SQL. */
  inspect<T>(use: (db: Kysely<Database>) => Promise<T>): Promise<T>;
  /** Stops the server (the data directory stays until `dispose`). */
  stop(): Promise<void>;
  /** Stops the server and deletes its data directory (and empties its PostgreSQL database for the next test). */
  dispose(): Promise<void>;
}

let deviceCounter = 0;

export async function startTestServer(
  options: {
    /** Default: `SMARTLIC_TEST_ENGINE`, else sqlite. */
    engine?: Engine;
    clock?: ManualClock;
    dataDir?: string;
    /** PostgreSQL: the database of an earlier server (to start it again, with its `dataDir`); default a fresh one. */
    dbUrl?: string;
    clockToleranceMs?: number;
    /** `--webhook-allow-private`: needed to deliver to receivers on 127.0.0.1. */
    webhookAllowPrivate?: boolean;
    /** Webhook name resolution; default: no name resolves (tests never use real DNS). */
    webhookResolver?: HostResolver;
    rateLimits?: ServerOptions['rateLimits'];
    /** `satellite` starts a satellite (no root is created; `rootCaPem` is empty until it is registered). */
    mode?: ServerOptions['mode'];
    upstream?: string;
    /**
     * Real time from start to the background jobs' first run. Default one hour: tests drive the
     * jobs themselves (`job run`, `webhookJobs.runDue()`) after moving the clock.
     */
    jobStartDelayMs?: number;
  } = {},
): Promise<TestServer> {
  const clock = options.clock ?? new ManualClock();
  const engine = options.engine ?? defaultTestEngine();
  const temp = options.dataDir ? undefined : makeTempDir();
  const dataDir = options.dataDir ?? temp!.path;
  let database: LeasedDatabase | undefined;
  if (engine === 'postgres' && !options.dbUrl) database = await acquireTestDatabase();
  const dbUrl = engine === 'postgres' ? (options.dbUrl ?? database!.url) : undefined;
  const server = await startServer({
    dataDir,
    ...(dbUrl ? { dbUrl } : {}),
    port: 0,
    logLevel: (process.env.SMARTLIC_TEST_LOG_LEVEL as 'silent' | undefined) ?? 'silent',
    clock,
    webhookAllowPrivate: options.webhookAllowPrivate ?? false,
    webhookResolver: options.webhookResolver ?? testResolver(),
    ...(options.clockToleranceMs === undefined ? {} : { clockToleranceMs: options.clockToleranceMs }),
    ...(options.rateLimits === undefined ? {} : { rateLimits: options.rateLimits }),
    jobStartDelayMs: options.jobStartDelayMs ?? HOUR,
    ...(options.mode ? { mode: options.mode } : {}),
    ...(options.upstream ? { upstream: options.upstream } : {}),
  });
  const apiKey = readFileSync(server.adminKeyPath, 'utf8').trim();
  const rootCaPem = existsSync(server.rootCaPath) ? readFileSync(server.rootCaPath, 'utf8') : '';
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await server.close();
  };
  return {
    url: server.url,
    dataDir,
    engine,
    dbUrl,
    clock,
    server,
    admin: new AdminClient(server.url, apiKey),
    rootCaPem,
    device(pid = 'C9300-24UX', sn = `SN${++deviceCounter}`, alg: SignatureAlgorithm = 'ES256') {
      return new SimDevice({ url: server.url, clock, rootCaPem }, { pid, sn }, alg);
    },
    inspect: (use) => inspectDatabase(dbUrl ? { engine: 'postgres', url: dbUrl } : { engine: 'sqlite', dataDir }, use),
    stop,
    async dispose() {
      await stop();
      temp?.remove();
      await database?.release();
    },
  };
}

/** Runs `use` over a connection of its own to a test server's database (SQLite file in `dataDir`, or PostgreSQL). */
export async function inspectDatabase<T>(
  target: { engine: 'sqlite'; dataDir: string } | { engine: 'postgres'; url: string },
  use: (db: Kysely<Database>) => Promise<T>,
): Promise<T> {
  const database: OpenDatabase =
    target.engine === 'postgres'
      ? await openPostgresDatabase(target.url, { poolSize: 1 })
      : openSqliteDatabase(join(target.dataDir, 'smartlic.db'));
  try {
    return await use(database.db);
  } finally {
    await database.close();
  }
}
