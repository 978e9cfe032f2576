import { randomUUID } from 'node:crypto';
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

/**
 * A sync document's file text: indented JSON, except that a request's table of instances has one
 * row per line (indented cell by cell, 100,000 instances would take 1.6 million lines).
 */
export function syncFileText(document: unknown): string {
  const payload = (document as { payload?: { instances?: { rows?: unknown } } } | null)?.payload;
  const rows = payload?.instances?.rows;
  if (!payload || !Array.isArray(rows)) return `${JSON.stringify(document, null, 1)}\n`;
  const marker = randomUUID();
  const text = JSON.stringify(
    { ...(document as object), payload: { ...payload, instances: { ...payload.instances, rows: marker } } },
    null,
    1,
  );
  const at = text.indexOf(`"${marker}"`);
  const table = rows.length === 0 ? '[]' : `[\n${rows.map((r) => JSON.stringify(r)).join(',\n')}\n]`;
  return `${text.slice(0, at)}${table}${text.slice(at + marker.length + 2)}\n`;
}

/** Writes a sync document to `path` atomically (temp file, fsync, rename), readable by its owner and group. */
export async function writeSyncFile(path: string, document: unknown): Promise<void> {
  try {
    await writeFileAtomic(path, syncFileText(document), 0o640);
  } catch (error) {
    throw new CliError(`Cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`);
  }
}
