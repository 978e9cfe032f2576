import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { link, open, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { SmartlicError } from '@smartlic/protocol/core';
import { processAlive, readOptional } from './atomic-file.js';

/** The writer lock file inside a state directory. */
export const LOCK_FILE = 'state.lock';

/** What a lock file holds: who writes the state, since when. */
export interface LockHolder {
  /** The holder's process id. */
  pid: number;
  /** The host it runs on: a lock from another host is never taken over. */
  hostname: string;
  /** ISO time the lock was taken. */
  startedAt: string;
  /** What the holder runs, e.g. `smartlic device run`. */
  command: string;
  /** Tells this lock from another taken by the same process. */
  token: string;
}

/** Locks this process holds, by path → token: removed when the process exits. */
const held = new Map<string, string>();
let exitHookInstalled = false;

/**
 * The one writer of a state directory (`state.lock`). It is taken whole: the holder record is
 * written and synced to a temporary file, then hard-linked to `state.lock`, which fails if one
 * exists — so no process ever reads a half-written lock. A lock is stale, and taken over, when its
 * process is gone from this host (`kill(pid, 0)` → ESRCH), when it names this process but this
 * process does not hold it (a restarted container reuses its pid), or when it is clearly not a lock
 * (no positive integer `pid`: empty, not JSON, hand-edited): as locks appear whole, no smartlic
 * process can be caught writing one. A lock from another host cannot be checked and is never stale.
 */
export class StateLock {
  private released = false;

  private constructor(
    readonly path: string,
    private readonly token: string,
  ) {}

  /**
   * Takes the lock of the directory `dir`. While a live process holds it, tries again every 50 ms
   * for up to `waitMs`, then throws `STATE_LOCKED` naming that process.
   */
  static async acquire(dir: string, command: string, options: { waitMs?: number } = {}): Promise<StateLock> {
    const deadline = Date.now() + (options.waitMs ?? 0);
    for (;;) {
      try {
        return await StateLock.tryAcquire(dir, command);
      } catch (error) {
        if (!(error instanceof SmartlicError) || error.code !== 'STATE_LOCKED' || Date.now() >= deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  /** One try at {@link acquire}: takes the lock or throws `STATE_LOCKED` at once. */
  private static async tryAcquire(dir: string, command: string): Promise<StateLock> {
    const path = join(dir, LOCK_FILE);
    const mine: LockHolder = {
      pid: process.pid,
      hostname: hostname(),
      startedAt: new Date().toISOString(),
      command,
      token: randomBytes(8).toString('hex'),
    };
    const text = `${JSON.stringify(mine)}\n`;
    for (let attempt = 0; attempt < 5; attempt++) {
      const temp = await writeTemp(path, text);
      try {
        if (await linkExclusive(temp, path)) return StateLock.held(path, mine.token);
        const seen = await readOptional(path);
        if (seen === undefined) continue; // released meanwhile: try again
        const holder = parseHolder(seen);
        if (holder && !isStale(path, holder)) throw lockedError(dir, holder);
        // Stale: replace it in one rename, unless it changed since it was judged. The race accepted:
        // two processes judging the same stale lock at once can both pass this check before either
        // renames; each then reads the lock back, and the first can read back its own before the
        // second's rename lands, so both would write. The window is the one rename call between
        // the check and the rename (the new lock is written and synced before the check), and it
        // opens only when two openers start together after a holder died.
        if ((await readOptional(path)) !== seen) continue;
        await rename(temp, path);
        if ((await readOptional(path)) === text) return StateLock.held(path, mine.token);
      } finally {
        await rm(temp, { force: true });
      }
    }
    // Every attempt lost a race to other openers: one of them holds it now.
    throw lockedError(dir, parseHolder((await readOptional(path)) ?? ''));
  }

  private static held(path: string, token: string): StateLock {
    held.set(path, token);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', releaseAllSync);
    }
    return new StateLock(path, token);
  }

  /** Removes the lock if it is still this one's. Idempotent. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (held.get(this.path) === this.token) held.delete(this.path);
    const seen = await readOptional(this.path).catch(() => undefined);
    if (seen !== undefined && parseHolder(seen)?.token === this.token) await rm(this.path, { force: true });
  }
}

/** Links `temp` to `path` if `path` does not exist; false if it does. */
async function linkExclusive(temp: string, path: string): Promise<boolean> {
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** Writes and syncs a temporary file beside `path`, named as `removeStaleTempFiles` cleans up after a crash. */
async function writeTemp(path: string, text: string): Promise<string> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  return temp;
}

/** The holder a lock file names, or undefined when it is clearly not a lock (no positive integer pid). */
export function parseHolder(text: string): LockHolder | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const pid = record.pid;
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) return undefined;
  const field = (name: string, fallback: string) =>
    typeof record[name] === 'string' ? (record[name] as string) : fallback;
  return {
    pid,
    hostname: field('hostname', hostname()),
    startedAt: field('startedAt', 'an unknown time'),
    command: field('command', 'an unknown command'),
    token: field('token', ''),
  };
}

function isStale(path: string, holder: LockHolder): boolean {
  if (holder.hostname !== hostname()) return false;
  if (holder.pid === process.pid) return held.get(path) !== holder.token || holder.token === '';
  return !processAlive(holder.pid);
}

function lockedError(dir: string, holder: LockHolder | undefined): SmartlicError {
  if (!holder)
    return new SmartlicError('STATE_LOCKED', { params: { dir, holder: 'another process' }, context: { dir } });
  const remote = holder.hostname !== hostname();
  const who =
    `process ${holder.pid}${remote ? ` on ${holder.hostname}` : ''} (${holder.command}, since ${holder.startedAt})` +
    (remote ? `; if that process is gone, remove ${join(dir, LOCK_FILE)}` : '');
  return new SmartlicError('STATE_LOCKED', { params: { dir, holder: who }, context: { dir, holder } });
}

function releaseAllSync(): void {
  for (const [path, token] of held) {
    try {
      if (parseHolder(readFileSync(path, 'utf8'))?.token === token) unlinkSync(path);
    } catch {
      // Gone already, or unreadable: the next opener finds this process gone and takes over.
    }
  }
  held.clear();
}
