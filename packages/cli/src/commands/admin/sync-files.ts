import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '@smartlic/protocol/fs';
import { CliError } from '../../output.js';

/**
 * Reads a sync file (JSON, which is also YAML 1.2): one sentence when it cannot be read or is
 * not JSON at all; its content is judged by the server.
 */
export function readSyncFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`Cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError(`${path} is not a smartlic synchronisation file: it is not valid JSON; nothing was changed.`);
  }
}

/** Writes a sync document to `path` atomically (temp file, fsync, rename), readable by its owner and group. */
export async function writeSyncFile(path: string, document: unknown): Promise<void> {
  try {
    await writeFileAtomic(path, `${JSON.stringify(document, null, 1)}\n`, 0o640);
  } catch (error) {
    throw new CliError(`Cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`);
  }
}
