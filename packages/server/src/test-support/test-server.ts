import { readFileSync } from 'node:fs';
import { ManualClock, type SignatureAlgorithm } from '@smartlic/protocol';
import type { ServerOptions } from '../config.js';
import type { HostResolver } from '../features/webhooks/webhook-target.js';
import { type RunningServer, startServer } from '../start-server.js';
import { AdminClient } from './admin-client.js';
import { SimDevice } from './sim-device.js';
import { makeTempDir } from './temp-dir.js';
import { testResolver } from './test-resolver.js';

/** A real server on 127.0.0.1, port 0, over a SQLite file in a temp dir, with a manual clock. */
export interface TestServer {
  url: string;
  dataDir: string;
  clock: ManualClock;
  server: RunningServer;
  admin: AdminClient;
  rootCaPem: string;
  device(pid?: string, sn?: string, alg?: SignatureAlgorithm): SimDevice;
  /** Stops the server (the data directory stays until `dispose`). */
  stop(): Promise<void>;
  /** Stops the server and deletes its data directory. */
  dispose(): Promise<void>;
}

let deviceCounter = 0;

export async function startTestServer(
  options: {
    clock?: ManualClock;
    dataDir?: string;
    clockToleranceMs?: number;
    /** `--webhook-allow-private`: needed to deliver to receivers on 127.0.0.1. */
    webhookAllowPrivate?: boolean;
    /** Webhook name resolution; default: no name resolves (tests never use real DNS). */
    webhookResolver?: HostResolver;
    rateLimits?: ServerOptions['rateLimits'];
  } = {},
): Promise<TestServer> {
  const clock = options.clock ?? new ManualClock();
  const temp = options.dataDir ? undefined : makeTempDir();
  const dataDir = options.dataDir ?? temp!.path;
  const server = await startServer({
    dataDir,
    port: 0,
    logLevel: 'silent',
    clock,
    webhookAllowPrivate: options.webhookAllowPrivate ?? false,
    webhookResolver: options.webhookResolver ?? testResolver(),
    ...(options.clockToleranceMs === undefined ? {} : { clockToleranceMs: options.clockToleranceMs }),
    ...(options.rateLimits === undefined ? {} : { rateLimits: options.rateLimits }),
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
    },
  };
}
