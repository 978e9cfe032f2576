import { fstatSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Makes what SQLite has written to its write-ahead log durable, on the thread pool. */
export interface WalSync {
  /**
   * Resolves once an fdatasync of the WAL that started after this call has completed: every
   * commit made before the call is then on disk. Calls made while a sync runs share the next one.
   */
  sync(): Promise<void>;
  /** Closes the WAL's file handle (the database stays open). */
  close(): Promise<void>;
  /** Syncs completed or failed since the database opened, and the time they ran (one runs at a time). */
  statistics(): WalSyncStatistics;
}

/** What {@link WalSync.statistics} counts. */
export interface WalSyncStatistics {
  syncs: number;
  /** Wall time during which a sync was running. */
  seconds: number;
}

/**
 * The WAL sync of the SQLite database `file` (ADR 0002). The connection runs with
 * `synchronous=NORMAL`, so a COMMIT writes the log without waiting for the disk; the group-commit
 * transactor then acknowledges its units only after this sync, which runs on libuv's thread pool
 * while the event loop goes on parsing, verifying and signing. fdatasync covers every page of the
 * file, whoever wrote it, so one sync covers every commit before it. The first sync also syncs
 * the directory, which makes the log file's own entry durable.
 */
export function createWalSync(file: string): WalSync {
  const walFile = `${file}-wal`;
  let handle: FileHandle | undefined;
  let running: Promise<void> | undefined;
  let next: Promise<void> | undefined;
  const counted: WalSyncStatistics = { syncs: 0, seconds: 0 };

  const walHandle = async (): Promise<FileHandle> => {
    // A log deleted and created again (only when the last connection closes) is a new file.
    // fstat on the event loop: a microsecond, where a thread-pool round trip before every sync costs more.
    if (handle && fstatSync(handle.fd).nlink > 0) return handle;
    await handle?.close();
    handle = await open(walFile, 'r');
    const dir = await open(dirname(walFile), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    return handle;
  };

  const runOnce = async (): Promise<void> => {
    const wal = await walHandle();
    await wal.datasync();
  };

  const start = (): Promise<void> => {
    const started = performance.now();
    const current = runOnce().finally(() => {
      running = undefined;
      counted.syncs++;
      counted.seconds += (performance.now() - started) / 1000;
    });
    running = current;
    return current;
  };

  return {
    sync(): Promise<void> {
      if (!running) return start();
      // A sync is running, and may have started before the caller's commit: join the next one.
      next ??= running
        .catch(() => undefined)
        .then(() => {
          next = undefined;
          return start();
        });
      return next;
    },
    async close(): Promise<void> {
      await Promise.allSettled([running, next]);
      await handle?.close();
      handle = undefined;
    },
    statistics: () => ({ ...counted }),
  };
}
