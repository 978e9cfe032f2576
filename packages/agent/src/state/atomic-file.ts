import { readdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fsyncDirectory, tempFileWriter } from '@smartlic/protocol/fs';

/** Renames `from` to `to` durably (the directory entry is fsynced). */
export async function renameDurably(from: string, to: string): Promise<void> {
  await rename(from, to);
  await fsyncDirectory(dirname(to));
}

/**
 * Removes the temporary files that processes killed mid-write left in `dir` (those whose process
 * is gone); a live process's temporary file is left alone.
 */
export async function removeStaleTempFiles(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = tempFileWriter(name);
    if (!pid || pid === process.pid || processAlive(pid)) continue;
    await rm(join(dir, name), { force: true });
  }
}

/** True when a process `pid` runs on this host (one we may not signal counts as running). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The text of `path`, or undefined when there is no such file. */
export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
