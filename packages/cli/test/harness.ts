import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import type { Engine } from '../../server/src/storage/database.js';
import type { Database } from '../../server/src/storage/schema.js';
import { AdminClient } from '../../server/src/test-support/admin-client.js';
import { acquireTestDatabase } from '../../server/src/test-support/postgres.js';
import { inspectDatabase } from '../../server/src/test-support/test-server.js';

/** The built CLI, as `npx smartlic` runs it. */
export const BIN = fileURLToPath(new URL('../bin/smartlic.js', import.meta.url));

/** What one CLI run printed and how it exited. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI once with `args` and extra environment. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs the CLI and parses its JSON output; fails loudly when the command failed. */
export async function cliJson<T>(args: string[], env: Record<string, string> = {}): Promise<T> {
  const result = await runCli([...args, '--json'], env);
  if (result.code !== 0) throw new Error(`smartlic ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** A temporary directory removed by `cleanup`. */
export async function tempDir(prefix = 'smartlic-'): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** A `smartlic server` process on 127.0.0.1 and a free port. */
export interface ServerProcess {
  url: string;
  dataDir: string;
  /** Its `--db` (a PostgreSQL URL; pass it again to start the same server anew); undefined: SQLite in the data directory. */
  db: string | undefined;
  apiKey: string;
  rootCaPath: string;
  output: () => string;
  stop: () => Promise<void>;
  /** The process id (to send it a signal). */
  pid: number;
  /** Resolves with the exit code (or null when killed by a signal) once the process has exited. */
  exited: Promise<number | null>;
  /** Sends `signal` (e.g. SIGKILL) and waits until the process has exited. */
  kill: (signal: NodeJS.Signals) => Promise<void>;
}

/**
 * Starts `smartlic server --data DIR --port PORT` (0: any free port), with `args` after (and
 * `--db` when `options.db` names a database), and waits until it prints its URL.
 */
export async function startServerProcess(
  dataDir: string,
  env: Record<string, string> = {},
  port = 0,
  args: string[] = [],
  options: { db?: string | undefined } = {},
): Promise<ServerProcess> {
  const dbArgs = options.db === undefined ? [] : ['--db', options.db];
  const child: ChildProcess = spawn(
    process.execPath,
    [BIN, 'server', '--data', dataDir, '--port', String(port), '--log-level', 'warn', ...dbArgs, ...args],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 30_000);
    const check = () => {
      const match = /listening on (https?:\/\/\S+)/.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
  const { readFile } = await import('node:fs/promises');
  const apiKey = (await readFile(join(dataDir, 'admin-api-key'), 'utf8')).trim();
  return {
    url,
    dataDir,
    db: options.db,
    apiKey,
    rootCaPath: join(dataDir, 'pki', 'root-ca.pem'),
    output: () => out,
    pid: child.pid ?? 0,
    exited,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
    kill: (signal) =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}

/**
 * The database of a server process on `engine`: on SQLite none (`db` undefined: the file in
 * the data directory); on PostgreSQL a database of this run's cluster, lent to the test file
 * (`release` empties it for the next test). Pass `db` to `startServerProcess(…, { db })`.
 */
export async function serverDatabase(engine: Engine): Promise<{ db: string | undefined; release(): Promise<void> }> {
  if (engine === 'sqlite') return { db: undefined, release: async () => undefined };
  const leased = await acquireTestDatabase();
  return { db: leased.url, release: () => leased.release() };
}

/** Runs `use` over a connection of its own to a server process's database (its SQLite file, or its `--db`). */
export function inspectServer<T>(
  server: Pick<ServerProcess, 'dataDir' | 'db'>,
  use: (db: Kysely<Database>) => Promise<T>,
): Promise<T> {
  return inspectDatabase(
    server.db ? { engine: 'postgres', url: server.db } : { engine: 'sqlite', dataDir: server.dataDir },
    use,
  );
}

/** `admin --server URL --api-key KEY …args`: an admin command on `server` with its owner key. */
export function adminArgs(server: Pick<ServerProcess, 'url' | 'apiKey'>, args: string[]): string[] {
  return ['admin', '--server', server.url, '--api-key', server.apiKey, ...args];
}

/** A row of `admin license list --json`. */
export interface LicenseListRow {
  tag: string;
  quantity: number;
  inUse: number;
}

/** The row of `tag` in `admin license list --va VA` on `server`, or undefined. */
export async function licenseRow(
  server: Pick<ServerProcess, 'url' | 'apiKey'>,
  vaId: string,
  tag: string,
): Promise<LicenseListRow | undefined> {
  return (await cliJson<LicenseListRow[]>(adminArgs(server, ['license', 'list', '--va', vaId]))).find(
    (r) => r.tag === tag,
  );
}

/**
 * An authority (`DIR/authority`) and a `--mode satellite` server (`DIR/satellite`), not yet
 * registered; on the authority Smart Account `Example` (ex.com), its Virtual Account `vaName` and
 * `count` licenses of `tag`. Both servers are stopped again when any step fails.
 */
export async function startAuthorityAndSatellite(
  dir: string,
  place: { vaName: string; tag: string; count: number },
): Promise<{ authority: ServerProcess; satellite: ServerProcess; accountId: string; vaId: string }> {
  const authority = await startServerProcess(join(dir, 'authority'));
  let satellite: ServerProcess | undefined;
  try {
    satellite = await startServerProcess(join(dir, 'satellite'), {}, 0, ['--mode', 'satellite']);
    // Through the REST API: the CLI's account, VA and license commands have tests of their own.
    const api = new AdminClient(authority.url, authority.apiKey);
    const accountId = (await api.createAccount('Example', 'ex.com')).id;
    const vaId = (await api.createVa(accountId, place.vaName)).id;
    await api.addLicense(vaId, { tag: place.tag, count: place.count });
    return { authority, satellite, accountId, vaId };
  } catch (error) {
    await satellite?.stop();
    await authority.stop();
    throw error;
  }
}
