import { readFileSync } from 'node:fs';
import { ManualClock, type SignatureAlgorithm } from '@smartlic/protocol';
import type { HostResolver } from '../features/webhooks/webhook-target.js';
import { type RunningServer, startServer } from '../start-server.js';
import type { Engine } from '../storage/database.js';
import { AdminClient } from './admin-client.js';
import { createTestDatabase, defaultTestEngine, type TestDatabase } from './postgres.js';
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
  /** Stops the server (the data directory stays until `dispose`). */
  stop(): Promise<void>;
  /** Stops the server and deletes its data directory (and its PostgreSQL database). */
  dispose(): Promise<void>;
}

let deviceCounter = 0;

export async function startTestServer(
  options: {
    /** Default: `SMARTLIC_TEST_ENGINE`, else sqlite. */
    engine?: Engine;
    clock?: ManualClock;
    dataDir?: string;
    /** PostgreSQL: the database of an earlier server (with its `dataDir`); default a fresh one. */
    dbUrl?: string;
    clockToleranceMs?: number;
    /** `--webhook-allow-private`: needed to deliver to receivers on 127.0.0.1. */
    webhookAllowPrivate?: boolean;
    /** Webhook name resolution; default: no name resolves (tests never use real DNS). */
    webhookResolver?: HostResolver;
  } = {},
): Promise<TestServer> {
  const clock = options.clock ?? new ManualClock();
  const engine = options.engine ?? defaultTestEngine();
  if (engine === 'postgres' && options.dataDir && !options.dbUrl) {
    throw new Error('Restarting a PostgreSQL test server needs the dbUrl of the first start along with its dataDir.');
  }
  const temp = options.dataDir ? undefined : makeTempDir();
  const dataDir = options.dataDir ?? temp!.path;
  let database: TestDatabase | undefined;
  if (engine === 'postgres' && !options.dbUrl) database = await createTestDatabase();
  const dbUrl = engine === 'postgres' ? (options.dbUrl ?? database!.url) : undefined;
  const server = await startServer({
    dataDir,
    ...(dbUrl ? { dbUrl } : {}),
    port: 0,
    logLevel: 'silent',
    clock,
    webhookAllowPrivate: options.webhookAllowPrivate ?? false,
    webhookResolver: options.webhookResolver ?? testResolver(),
    ...(options.clockToleranceMs === undefined ? {} : { clockToleranceMs: options.clockToleranceMs }),
  });
  const apiKey = readFileSync(server.adminKeyPath, 'utf8').trim();
  const rootCaPem = readFileSync(server.rootCaPath, 'utf8');
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
    stop,
    async dispose() {
      await stop();
      temp?.remove();
      await database?.drop();
    },
  };
}
