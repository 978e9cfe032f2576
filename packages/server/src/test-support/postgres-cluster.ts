import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The newest `/usr/lib/postgresql/<version>/bin` that holds initdb and pg_ctl, if any. */
export function findPostgresBin(root = '/usr/lib/postgresql'): string | undefined {
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

/** A PostgreSQL cluster started for a test run. */
export interface PostgresCluster {
  /** Superuser URL (`postgres://postgres:…@127.0.0.1:PORT/postgres`). */
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts a throw-away cluster: `initdb` into a temp dir and `pg_ctl start` on a free port of
 * 127.0.0.1, tuned for tests (no fsync), with password login over TCP (so that a wrong
 * password is refused, as in production) and the C collation (byte order, as SQLite sorts).
 * When this process is root it runs them as the `postgres` user (initdb refuses root).
 */
export async function startPostgresCluster(bin: string): Promise<PostgresCluster> {
  const asRoot = userInfo().uid === 0;
  const dir = mkdtempSync(join(tmpdir(), 'smartlic-pg-'));
  const password = randomBytes(12).toString('hex');
  const data = join(dir, 'data');
  const asOwner = (cmd: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]) : run(join(bin, cmd), args);
  try {
    writeFileSync(join(dir, 'pwfile'), `${password}\n`, { mode: 0o600 });
    if (asRoot) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
      chownSync(join(dir, 'pwfile'), Number(stdout.trim()), Number(gid.trim()));
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
    const port = await freePort();
    const settings = [
      `-c listen_addresses=127.0.0.1`,
      `-c port=${port}`,
      `-c unix_socket_directories=${dir}`,
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=300',
      '-c shared_buffers=32MB',
      '-c log_min_messages=fatal',
    ].join(' ');
    await asOwner('pg_ctl', ['start', '-D', data, '-w', '-t', '60', '-l', join(dir, 'log'), '-o', settings]);
    return {
      url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
      async stop() {
        await asOwner('pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w']).catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await asOwner('pg_ctl', ['stop', '-D', data, '-m', 'immediate']).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
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
