import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type Clock, SmartlicError } from '@smartlic/protocol';
import type BetterSqlite3 from 'better-sqlite3';
import type { OpenDatabase, OpenSqliteDatabase } from '../../storage/database.js';
import { type BackupEntry, headerBytes } from './backup-archive.js';

/** What a backup is taken from: the data directory, and the database the server has open. */
export type BackupSource =
  | { engine: 'sqlite'; dataDir: string; sqlite: BetterSqlite3.Database }
  | { engine: 'postgres'; dataDir: string };

/** The backup source of a server over `database` (a SQLite database has the driver's handle; PostgreSQL has none). */
export function backupSourceOf(dataDir: string, database: OpenDatabase): BackupSource {
  return database.engine === 'sqlite'
    ? { engine: 'sqlite', dataDir, sqlite: (database as OpenSqliteDatabase).sqlite }
    : { engine: 'postgres', dataDir };
}

/** Said to anyone asking a PostgreSQL-backed server for a backup. */
export const POSTGRES_BACKUP_MESSAGE =
  'This server keeps its data in PostgreSQL: back the database up with pg_dump (or your PostgreSQL backups), and keep a copy of pki/, secrets.key, admin-api-key and admin-password from the data directory with it.';

/** A backup ready to be sent: its size, what it holds, and its bytes as a stream (which removes its temporary copy when done). */
export interface BackupStream {
  bytes: number;
  entries: BackupEntry[];
  stream: Readable;
}

/** The files of the data directory a backup keeps besides the database, as archive paths. */
function keptFiles(dataDir: string): string[] {
  const paths: string[] = [];
  const pki = join(dataDir, 'pki');
  if (existsSync(pki)) {
    for (const name of readdirSync(pki).sort()) {
      if (!name.startsWith('.') && statSync(join(pki, name)).isFile()) paths.push(`pki/${name}`);
    }
  }
  for (const name of ['secrets.key', 'admin-api-key', 'admin-password'])
    if (existsSync(join(dataDir, name))) paths.push(name);
  return paths;
}

/** Whether process `pid` is alive (signal 0 only checks). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temporary copies left in the data directory by a server that died while taking a backup. */
function removeAbandonedCopies(dataDir: string): void {
  for (const name of readdirSync(dataDir)) {
    const pid = /^\.backup-(\d+)-/.exec(name)?.[1];
    if (pid !== undefined && Number(pid) !== process.pid && !isAlive(Number(pid))) {
      rmSync(join(dataDir, name), { recursive: true, force: true });
    }
  }
}

function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}

/**
 * Takes a consistent copy of the database while the server keeps serving (SQLite's online
 * backup API, on the server's own connection, so writes made meanwhile are carried into the
 * copy), together with pki/, secrets.key, admin-api-key and admin-password, and returns it as an archive
 * stream (`backup-archive.ts`). The temporary copy lives in `<data>/.backup-<pid>-*` (mode 0700)
 * and is removed once the stream ends or fails; copies left by a process that died are removed
 * by the next backup. A PostgreSQL-backed server refuses with one sentence.
 */
export async function takeBackup(source: BackupSource, clock: Clock): Promise<BackupStream> {
  if (source.engine !== 'sqlite') throw new SmartlicError('BAD_REQUEST', { message: POSTGRES_BACKUP_MESSAGE });
  removeAbandonedCopies(source.dataDir);
  const temp = mkdtempSync(join(source.dataDir, `.backup-${process.pid}-${randomBytes(4).toString('hex')}-`));
  const cleanup = () => rmSync(temp, { recursive: true, force: true });
  try {
    const dbCopy = join(temp, 'smartlic.db');
    await source.sqlite.backup(dbCopy);
    const small = keptFiles(source.dataDir).map((path) => {
      const file = join(source.dataDir, path);
      return { path, data: readFileSync(file), mode: statSync(file).mode & 0o777 };
    });
    const entries: BackupEntry[] = [
      { path: 'smartlic.db', size: statSync(dbCopy).size, sha256: await sha256File(dbCopy), mode: 0o600 },
      ...small.map(({ path, data, mode }) => ({
        path,
        size: data.length,
        sha256: createHash('sha256').update(data).digest('hex'),
        mode,
      })),
    ];
    const header = headerBytes({ createdAt: clock.now(), files: entries });
    async function* parts() {
      try {
        yield header;
        yield* createReadStream(dbCopy);
        for (const { data } of small) yield data;
      } finally {
        cleanup();
      }
    }
    const stream = Readable.from(parts(), { objectMode: false });
    stream.on('close', cleanup);
    return { bytes: header.length + entries.reduce((sum, e) => sum + e.size, 0), entries, stream };
  } catch (error) {
    cleanup();
    throw error;
  }
}
