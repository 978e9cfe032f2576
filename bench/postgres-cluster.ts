import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chownSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parentOf } from './proc-cpu.js';
import { onInterrupt } from './server-process.js';

const run = promisify(execFile);

/** A throw-away PostgreSQL cluster started by a benchmark. */
export interface BenchCluster {
  /** Superuser URL of database `name` (`postgres://postgres:…@127.0.0.1:PORT/name`). */
  url(name: string): string;
  /** `CREATE DATABASE name` (fresh, empty). */
  createDatabase(name: string): Promise<void>;
  /** Transactions committed and rolled back in database `name` so far (pg_stat_database; counts lag by up to a second). */
  transactions(name: string): Promise<{ committed: number; rolledBack: number }>;
  /** Process ids of the postmaster and its backends now (to sum their CPU time). */
  pids(): number[];
  /** `pg_ctl stop` and removes the cluster's temp dir; also run on Ctrl-C. */
  stop(): Promise<void>;
}

/**
 * The start logic of packages/server/src/test-support/postgres-cluster.ts, copied (bench/ is
 * its own TypeScript project and does not import test code) with one difference that matters
 * for a benchmark: the cluster is **durable** (fsync and synchronous_commit on, as in
 * production and as SQLite's synchronous=FULL beside it), where the test cluster turns both off.
 * Runs initdb and pg_ctl as the `postgres` user when this process is root.
 */
export async function startBenchCluster(): Promise<BenchCluster> {
  const bin = findPostgresBin();
  if (!bin) {
    throw new Error(
      'No PostgreSQL server found under /usr/lib/postgresql (apt-get install postgresql): this benchmark needs one.',
    );
  }
  const asRoot = userInfo().uid === 0;
  const dir = mkdtempSync(join(tmpdir(), 'smartlic-bench-pg-'));
  const password = randomBytes(12).toString('hex');
  const data = join(dir, 'data');
  const port = await freePort();
  const asOwner = (cmd: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]) : run(join(bin, cmd), args);
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      await asOwner('pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w', '-t', '20']).catch(() => undefined);
      if (process.env.BENCH_PG_LOG) copyFileSync(join(dir, 'log'), process.env.BENCH_PG_LOG);
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopped;
  };
  const unregister = onInterrupt(stop);
  try {
    writeFileSync(join(dir, 'pwfile'), `${password}\n`, { mode: 0o600 });
    if (asRoot) {
      const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
      const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
      chownSync(dir, uid, gid);
      chownSync(join(dir, 'pwfile'), uid, gid);
    }
    await asOwner('initdb', [
      '-D',
      data,
      '-U',
      'postgres',
      `--pwfile=${join(dir, 'pwfile')}`,
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '--locale=C',
      '--encoding=UTF8',
      '--no-sync',
    ]);
    const settings = [
      '-c listen_addresses=127.0.0.1',
      `-c port=${port}`,
      `-c unix_socket_directories=${dir}`,
      '-c max_connections=200',
      '-c shared_buffers=128MB',
      // BENCH_PG_LOG=FILE keeps the server's log, with every failed statement (e.g. 40001), in FILE.
      ...(process.env.BENCH_PG_LOG
        ? ['-c log_min_messages=error', '-c log_min_error_statement=error']
        : ['-c log_min_messages=fatal']),
    ].join(' ');
    await asOwner('pg_ctl', ['start', '-D', data, '-w', '-t', '60', '-l', join(dir, 'log'), '-o', settings]);
  } catch (error) {
    await stop();
    unregister();
    throw error;
  }
  return {
    url: (name) => `postgres://postgres:${password}@127.0.0.1:${port}/${name}`,
    async createDatabase(name) {
      await asOwner('createdb', ['-h', dir, '-p', String(port), '-U', 'postgres', '-T', 'template0', name]);
    },
    async transactions(name) {
      const { stdout } = await asOwner('psql', [
        '-h',
        dir,
        '-p',
        String(port),
        '-U',
        'postgres',
        '-d',
        name,
        '-At',
        '-c',
        `select pg_stat_force_next_flush(); select xact_commit || ' ' || xact_rollback from pg_stat_database where datname = '${name}'`,
      ]);
      const [committed, rolledBack] = stdout.trim().split('\n').pop()?.split(' ').map(Number) ?? [];
      return { committed: committed ?? Number.NaN, rolledBack: rolledBack ?? Number.NaN };
    },
    pids() {
      const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      const out = [postmaster];
      for (const entry of readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        try {
          if (parentOf(Number(entry)) === postmaster) out.push(Number(entry));
        } catch {
          // the process exited meanwhile
        }
      }
      return out;
    },
    async stop() {
      await stop();
      unregister();
    },
  };
}

function findPostgresBin(root = '/usr/lib/postgresql'): string | undefined {
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = join(root, version, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
