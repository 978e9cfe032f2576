import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Checkpoints SQLite's write-ahead log into the database file from a worker thread. */
export interface WalCheckpointer {
  /** Asks for a checkpoint unless one ran within the interval or is running; never waits. */
  request(): void;
  /** Runs a checkpoint now and resolves with how many log frames were in it and how many were copied. */
  checkpoint(): Promise<{ log: number; checkpointed: number }>;
  /** Stops the worker (waiting for a checkpoint in progress). */
  close(): Promise<void>;
}

// The worker is plain CommonJS evaluated from this string, so that it runs the same from the
// sources (tests) and from the build; it loads better-sqlite3 from the path resolved here.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true, log: row.log, checkpointed: row.checkpointed });
  } catch (error) {
    parentPort.postMessage({ ok: false, message: String(error && error.message) });
  }
});
`;

/**
 * The checkpointer of the SQLite database `file` (ADR 0002). SQLite's automatic checkpoint runs
 * inside a COMMIT once the log passes ~1,000 pages, on the committing thread, and syncs the log
 * and the database file: on our one connection that is the event loop. The server turns it off
 * (`wal_autocheckpoint=0`) and this worker, on a connection of its own, runs a PASSIVE
 * checkpoint (which never blocks the writer) at most every `intervalMs` after commits. If the
 * worker fails, `onFailure` is called once (the server turns the automatic checkpoint back on).
 */
export function createWalCheckpointer(
  file: string,
  options: { intervalMs?: number; onFailure: (error: Error) => void },
): WalCheckpointer {
  const intervalMs = options.intervalMs ?? 1_000;
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER, { eval: true, workerData: { file, driver } });
  // An idle worker does not keep the process alive.
  worker.unref();
  let failed = false;
  let lastAt = 0;
  let running: Promise<{ log: number; checkpointed: number }> | undefined;
  const fail = (error: Error) => {
    if (failed) return;
    failed = true;
    options.onFailure(error);
  };
  worker.on('error', fail);
  worker.on('exit', (code) => {
    if (code !== 0) fail(new Error(`the WAL checkpoint worker exited with code ${code}`));
  });

  const checkpoint = (): Promise<{ log: number; checkpointed: number }> => {
    if (failed) return Promise.reject(new Error('the WAL checkpoint worker has failed'));
    running ??= new Promise<{ log: number; checkpointed: number }>((resolve, reject) => {
      // Held while a checkpoint runs, so that a process waiting for it does not exit under it.
      worker.ref();
      worker.once('message', (answer: { ok: boolean; log?: number; checkpointed?: number; message?: string }) => {
        worker.unref();
        running = undefined;
        lastAt = Date.now();
        if (answer.ok) resolve({ log: answer.log ?? 0, checkpointed: answer.checkpointed ?? 0 });
        else {
          const error = new Error(`WAL checkpoint failed: ${answer.message}`);
          fail(error);
          reject(error);
        }
      });
      worker.postMessage('checkpoint');
    });
    return running;
  };

  return {
    request() {
      if (failed || running || Date.now() - lastAt < intervalMs) return;
      checkpoint().catch(() => undefined);
    },
    checkpoint,
    async close() {
      await running?.catch(() => undefined);
      if (failed) {
        await worker.terminate();
        return;
      }
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.ref();
      worker.postMessage('close');
      await exited;
    },
  };
}
