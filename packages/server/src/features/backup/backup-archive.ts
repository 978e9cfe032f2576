import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';

/**
 * The backup archive: one file, written by hand (no dependency), that a restore checks
 * completely before writing anything:
 *
 *     smartlic-backup 1\n
 *     {"createdAt":…,"files":[{"path":"smartlic.db","size":…,"sha256":"…","mode":384},…]}\n
 *     the bytes of each file, in the order of "files"
 *
 * Every file's size and SHA-256 are in the header, so a truncated, extended or altered
 * archive is refused. Paths are a fixed set (no `..`, no absolute paths).
 */
export const BACKUP_MAGIC = 'smartlic-backup 1\n';

/** One file of an archive. */
export interface BackupEntry {
  path: string;
  size: number;
  sha256: string;
  mode: number;
}

export interface BackupHeader {
  createdAt: number;
  files: BackupEntry[];
}

/** Why an archive is refused, as one sentence. */
export class BackupFileError extends Error {
  override readonly name = 'BackupFileError';
}

const MAX_HEADER_BYTES = 64 * 1024;
const CHUNK = 1024 * 1024;

/** The paths an archive may hold: the database, the secrets key, the admin key and password, and files directly in pki/. */
export function isBackupPath(path: string): boolean {
  return (
    path === 'smartlic.db' ||
    path === 'secrets.key' ||
    path === 'admin-api-key' ||
    path === 'admin-password' ||
    /^pki\/[A-Za-z0-9][A-Za-z0-9._-]{0,100}$/.test(path)
  );
}

/** The first bytes of an archive: magic line and header line. */
export function headerBytes(header: BackupHeader): Buffer {
  return Buffer.from(`${BACKUP_MAGIC}${JSON.stringify(header)}\n`, 'utf8');
}

/** SHA-256 (hex) and size of a part of an open file, read in chunks. */
function hashRange(fd: number, start: number, size: number): string {
  const hash = createHash('sha256');
  const buffer = Buffer.alloc(Math.min(CHUNK, Math.max(size, 1)));
  let done = 0;
  while (done < size) {
    const n = readSync(fd, buffer, 0, Math.min(buffer.length, size - done), start + done);
    if (n === 0) break;
    hash.update(buffer.subarray(0, n));
    done += n;
  }
  return hash.digest('hex');
}

/** Reads and checks the header of an open archive; returns it and where the file bytes begin. */
function readHeader(fd: number, what: string): { header: BackupHeader; dataStart: number } {
  const head = Buffer.alloc(MAX_HEADER_BYTES);
  const n = readSync(fd, head, 0, head.length, 0);
  const magic = Buffer.from(BACKUP_MAGIC, 'utf8');
  if (n < magic.length || !head.subarray(0, magic.length).equals(magic)) {
    throw new BackupFileError(`${what} is not a smartlic backup (it does not begin with "smartlic-backup 1").`);
  }
  const end = head.indexOf(0x0a, magic.length);
  if (end < 0 || end >= n) throw new BackupFileError(`${what} is truncated or damaged: its header is incomplete.`);
  let header: BackupHeader;
  try {
    header = JSON.parse(head.subarray(magic.length, end).toString('utf8')) as BackupHeader;
  } catch {
    throw new BackupFileError(`${what} is damaged: its header is not valid.`);
  }
  const files = Array.isArray(header?.files) ? header.files : undefined;
  const valid =
    files !== undefined &&
    typeof header.createdAt === 'number' &&
    files.every(
      (f) =>
        typeof f?.path === 'string' &&
        isBackupPath(f.path) &&
        Number.isSafeInteger(f.size) &&
        f.size >= 0 &&
        typeof f.sha256 === 'string' &&
        /^[0-9a-f]{64}$/.test(f.sha256) &&
        Number.isInteger(f.mode) &&
        f.mode >= 0 &&
        f.mode <= 0o777,
    ) &&
    new Set(files.map((f) => f.path)).size === files.length &&
    files.some((f) => f.path === 'smartlic.db');
  if (!valid) throw new BackupFileError(`${what} is damaged: its header is not valid.`);
  return { header, dataStart: end + 1 };
}

/**
 * Checks an archive completely (header, every file's size and SHA-256, nothing after the
 * last file) and returns its header with where each file's bytes are; throws a
 * `BackupFileError` saying what is wrong.
 */
export function verifyBackupFile(
  file: string,
  what = `The backup file ${file}`,
): { header: BackupHeader; offsets: number[] } {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    throw new BackupFileError(`Cannot read the backup file ${file} (${(error as NodeJS.ErrnoException).code}).`);
  }
  try {
    const { header, dataStart } = readHeader(fd, what);
    const total = fstatSync(fd).size;
    const expected = dataStart + header.files.reduce((sum, f) => sum + f.size, 0);
    if (total < expected) throw new BackupFileError(`${what} is truncated (${total} of ${expected} bytes).`);
    if (total > expected) throw new BackupFileError(`${what} is damaged: it has bytes after its last file.`);
    const offsets: number[] = [];
    let at = dataStart;
    for (const entry of header.files) {
      if (hashRange(fd, at, entry.size) !== entry.sha256) {
        throw new BackupFileError(`${what} is damaged: ${entry.path} does not match its checksum.`);
      }
      offsets.push(at);
      at += entry.size;
    }
    return { header, offsets };
  } finally {
    closeSync(fd);
  }
}

/** Copies `size` bytes at `start` of the open file `fromFd` to the open file `toFd`. */
export function copyRange(fromFd: number, start: number, size: number, toFd: number): void {
  const buffer = Buffer.alloc(Math.min(CHUNK, Math.max(size, 1)));
  let done = 0;
  while (done < size) {
    const n = readSync(fromFd, buffer, 0, Math.min(buffer.length, size - done), start + done);
    if (n === 0) throw new BackupFileError('The backup file changed while it was being restored.');
    let written = 0;
    while (written < n) written += writeSync(toFd, buffer, written, n - written);
    done += n;
  }
}
