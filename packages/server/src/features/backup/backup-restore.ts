import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fsyncDirectorySync } from '@smartlic/protocol/fs';
import { BackupFileError, type BackupHeader, copyRange, verifyBackupFile } from './backup-archive.js';

/** True when `dir` does not exist or is an empty directory. */
function isEmptyDir(dir: string): boolean {
  if (!existsSync(dir)) return true;
  return statSync(dir).isDirectory() && readdirSync(dir).length === 0;
}

/**
 * Restores an archive into `dataDir`, which must not exist or be empty. The archive is checked
 * completely first; its files are written into a new directory beside `dataDir` (each fsynced,
 * with its mode; pki/ 0700) which is then renamed into place, so that a failure leaves nothing
 * behind. Throws a `BackupFileError` (one sentence) for a non-empty directory or a bad archive.
 */
export function restoreBackup(file: string, dataDir: string): BackupHeader {
  const target = resolve(dataDir);
  if (!isEmptyDir(target)) {
    throw new BackupFileError(
      `The data directory ${target} is not empty: restore into a new or empty directory (nothing was changed).`,
    );
  }
  const { header, offsets } = verifyBackupFile(file);
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  const staging = join(parent, `.${randomBytes(6).toString('hex')}.restore.tmp`);
  mkdirSync(staging, { mode: 0o700 });
  const from = openSync(file, 'r');
  try {
    header.files.forEach((entry, i) => {
      const path = join(staging, entry.path);
      if (entry.path.startsWith('pki/') && !existsSync(join(staging, 'pki'))) {
        mkdirSync(join(staging, 'pki'), { mode: 0o700 });
      }
      const fd = openSync(path, 'wx', entry.mode);
      try {
        copyRange(from, offsets[i]!, entry.size, fd);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    });
    if (existsSync(join(staging, 'pki'))) fsyncDirectorySync(join(staging, 'pki'));
    fsyncDirectorySync(staging);
    if (existsSync(target)) rmdirSync(target);
    renameSync(staging, target);
    fsyncDirectorySync(parent);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  } finally {
    closeSync(from);
  }
  return header;
}
