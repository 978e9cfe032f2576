import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Checkpoints SQLite's write-ahead log into the database file from a worker thread. */
export interface WalCheckpointer {
  /** Asks for a checkpoint unless one ran within the interval or is running; never waits. Called after every commit. */
  request(): void;
  /** Runs a checkpoint now and resolves with how many log frames were in it and how many were copied. */
  checkpoint(): Promise<{ log: number; checkpointed: number }>;
  /**
   * Whether the writer should pause for {@link restart} before its next transaction: the last
   * checkpoint found at least `restartFrames` frames in the log and commits went on while it ran
   * (the transactor asks for a checkpoint after each), so the log holds frames it did not copy.
   */
  restartDue(): boolean;
  /**
   * A checkpoint while the caller writes nothing: after any checkpoint in progress, one that can
   * copy the whole log, so that SQLite's next transaction writes the log again from its start.
   * Resolves (never rejects) once it has run; a failure is the worker's failure as for any checkpoint.
   */
  restart(): Promise<void>;
  /** Stops the worker (waiting for a checkpoint in progress). */
  close(): Promise<void>;
}

// The worker is plain CommonJS evaluated from this string, so that it runs the same from the
// sources (tests) and from the build; it loads better-sqlite3 from the path resolved here.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { closeSync, fdatasyncSync, openSync } = require('node:fs');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
// SQLite syncs the database file only after a checkpoint that copied the whole log; one beside
// the writes copies part of it, and its pages would all wait for the sync of the one that ends a
// chain, which the writer waits for. Syncing after every checkpoint leaves that one little to do.
// Opened for writing only because some systems sync no file opened read-only; nothing is written through it.
const dbFile = openSync(workerData.file, 'r+');
parentPort.on('message', (message) => {
  if (message === 'close') {
    closeSync(dbFile);
    db.close();
    parentPort.close();
    return;
  }
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)');
    fdatasyncSync(dbFile);
    parentPort.postMessage({ ok: true, log: row.log, checkpointed: row.checkpointed });
  } catch (error) {
    parentPort.postMessage({ ok: false, message: String(error && error.message) });
  }
});
`;

/** A checkpoint beside the writes this quick leaves little for the writer to wait for. */
const QUICK_CHECKPOINT_MS = 20;
/** Checkpoints chained beside the writes before the writer waits for one anyway. */
const MAX_CHASING_CHECKPOINTS = 4;

/**
 * The checkpointer of the SQLite database `file` (ADR 0002). SQLite's automatic checkpoint runs
 * inside a COMMIT once the log passes ~1,000 pages, on the committing thread, and syncs the log
 * and the database file: on our one connection that is the event loop. The server turns it off
 * (`wal_autocheckpoint=0`) and this worker, on a connection of its own, runs a PASSIVE
 * checkpoint (which never blocks the writer) at most every `intervalMs` after commits. If the
 * worker fails, `onFailure` is called once (the server turns the automatic checkpoint back on).
 *
 * SQLite writes its log from the start again only once a checkpoint has copied all of it. Under
 * sustained writes a checkpoint that runs beside them never does, and the log grew without end
 * (800 MB in 25 s of registrations), each commit extending the file: new blocks for the file
 * system to allocate and zero, on the event loop (ADR 0025). So when commits went on during a
 * checkpoint of at least `restartFrames` frames (default 1,000, SQLite's own threshold), the
 * worker chases them with further checkpoints, each copying what came during the one before,
 * until one is quick; then {@link restartDue} tells the group commit to hold its next batch for a
 * {@link restart}, which copies the little left and lets the log start over in the same file.
 */
export function createWalCheckpointer(
  file: string,
  options: { intervalMs?: number; restartFrames?: number; onFailure: (error: Error) => void },
): WalCheckpointer {
  const intervalMs = options.intervalMs ?? 1_000;
  const restartFrames = options.restartFrames ?? 1_000;
  let behind = false;
  let committedDuring = false;
  let rounds = 0;
  let closing = false;
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

  /**
   * After a checkpoint beside the writes: whether the log holds frames it did not see (commits went
   * on during it, over a log of at least `restartFrames`), and if so what next. Each checkpoint
   * copies what was written during the one before, so a chain of them leaves less and less: once
   * one ends quickly (or after a few), the writer pauses for the last one (`behind`).
   */
  const afterCheckpoint = (log: number, checkpointed: number, elapsedMs: number): void => {
    const left = log >= restartFrames && (checkpointed < log || committedDuring);
    committedDuring = false;
    if (!left) {
      rounds = 0;
      return;
    }
    if (elapsedMs <= QUICK_CHECKPOINT_MS || rounds >= MAX_CHASING_CHECKPOINTS) {
      rounds = 0;
      behind = true;
      return;
    }
    rounds++;
    setImmediate(() => void run(false).catch(() => undefined));
  };

  const run = (alone: boolean): Promise<{ log: number; checkpointed: number }> => {
    if (failed) return Promise.reject(new Error('the WAL checkpoint worker has failed'));
    if (closing) return Promise.reject(new Error('the WAL checkpoint worker is closed'));
    running ??= new Promise<{ log: number; checkpointed: number }>((resolve, reject) => {
      const started = performance.now();
      // Held while a checkpoint runs, so that a process waiting for it does not exit under it.
      worker.ref();
      worker.once('message', (answer: { ok: boolean; log?: number; checkpointed?: number; message?: string }) => {
        worker.unref();
        running = undefined;
        lastAt = Date.now();
        if (answer.ok) {
          const result = { log: answer.log ?? 0, checkpointed: answer.checkpointed ?? 0 };
          // The one the writer waited for decides nothing: if a reader kept it from copying all, the next one will.
          if (alone) committedDuring = false;
          else afterCheckpoint(result.log, result.checkpointed, performance.now() - started);
          resolve(result);
        } else {
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
      // Asked after every commit: one while a checkpoint runs means the log has grown beyond what it copies.
      if (running) committedDuring = true;
      if (failed || running || Date.now() - lastAt < intervalMs) return;
      run(false).catch(() => undefined);
    },
    checkpoint: () => run(false),
    restartDue: () => behind && !failed && !running,
    async restart() {
      behind = false;
      await running?.catch(() => undefined);
      await run(true).catch(() => undefined);
    },
    async close() {
      closing = true;
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
