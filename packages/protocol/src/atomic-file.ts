import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { chmod, type FileHandle, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Atomic file replacement, one implementation for the agent (async) and the server (sync):
 * write a temporary file beside the target (`.<name>.<pid>.<hex>.tmp`), fsync it, rename it
 * over the target, set `mode`, and fsync the directory so the rename itself is durable.
 * Readers and a crash see the old content or the new one, never a mix; on any failure the
 * temporary file is removed and the target is left as it was. Nothing here runs on import.
 */

/**
 * Names of the temporary files: `.<name>.<pid>.<hex>.tmp` (and `<name>.<pid>.<hex>.tmp`, which
 * earlier agents wrote and may have left behind); group 1 is the writer's pid.
 */
export const TEMP_FILE_NAME = /^.+\.(\d+)\.[0-9a-f]+\.tmp$/;

/** The temporary file a write of `path` by this process uses. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** The pid of the process that wrote temporary file `name`, or undefined when it is not one. */
export function tempFileWriter(name: string): number | undefined {
  const pid = Number(TEMP_FILE_NAME.exec(name)?.[1]);
  return pid > 0 ? pid : undefined;
}

const bytesOf = (data: string | Uint8Array): Uint8Array =>
  typeof data === 'string' ? Buffer.from(data, 'utf8') : data;

/** Replaces `path` with `data` atomically and durably (see the module comment); synchronous. */
export function writeFileAtomicSync(path: string, data: string | Uint8Array, mode = 0o600): void {
  const temp = tempPathFor(path);
  let fd = openSync(temp, 'wx', mode);
  try {
    const bytes = bytesOf(data);
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(temp, path);
  } catch (error) {
    if (fd >= 0) closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  chmodSync(path, mode);
  fsyncDirectorySync(dirname(path));
}

/** Replaces `path` with `data` atomically and durably (see the module comment). */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const temp = tempPathFor(path);
  let handle: FileHandle | undefined = await open(temp, 'wx', mode);
  try {
    await handle.writeFile(bytesOf(data));
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, path);
  } catch (error) {
    await handle?.close();
    await rm(temp, { force: true });
    throw error;
  }
  await chmod(path, mode);
  await fsyncDirectory(dirname(path));
}

/** Makes a directory entry change (create, rename) durable; a no-op where directories cannot be opened or synced. */
export function fsyncDirectorySync(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // Windows and some file systems refuse fsync on a directory; the rename is still atomic.
  } finally {
    closeSync(fd);
  }
}

/** {@link fsyncDirectorySync}, asynchronous. */
export async function fsyncDirectory(dir: string): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(dir, 'r');
  } catch {
    return;
  }
  try {
    await handle.sync();
  } catch {
    // As above: the rename is still atomic.
  } finally {
    await handle.close();
  }
}
