import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { isMainThread } from 'node:worker_threads';

// The server's helper threads — libuv's thread pool (signatures, WAL syncs, file reads), V8's
// platform threads, worker threads — run at a lower priority than its event loop (ADR 0026).
// A pool thread woken for a signature otherwise takes the core from the event loop that woke it
// (the scheduler favours a thread that slept), and the event loop, which alone parses, routes and
// answers every request, waits for the signature's whole length.

/** How much nicer than the event loop the helper threads run, unless `--helper-nice` says otherwise. */
export const DEFAULT_HELPER_NICE = 10;

/** The highest niceness there is (the lowest priority). */
const MAX_NICE = 19;

/** How often threads started since (worker threads, a grown pool) are found and lowered too. */
const RESCAN_MS = 30_000;

/**
 * Gives every thread of this process except the main one the niceness of the main thread plus
 * `offset` (at most 19), on Linux, where a niceness belongs to one thread. Called from the main
 * thread only; elsewhere (other systems, a worker thread, `offset` 0) it does nothing. A thread
 * that ended meanwhile, or a niceness the system refuses, is passed over. Returns how many
 * threads were changed.
 */
export function lowerHelperThreads(offset: number, tasks = '/proc/self/task'): number {
  if (!applies(offset)) return 0;
  const target = Math.min(MAX_NICE, getPriority() + offset);
  let ids: string[];
  try {
    ids = readdirSync(tasks);
  } catch {
    return 0;
  }
  let changed = 0;
  for (const id of ids) {
    const tid = Number(id);
    if (!Number.isInteger(tid) || tid === process.pid) continue;
    try {
      if (getPriority(tid) === target) continue;
      setPriority(tid, target);
      changed++;
    } catch {
      // The thread has ended, or the system does not let this process change it.
    }
  }
  return changed;
}

/**
 * {@link lowerHelperThreads} now and every 30 s (threads start later too: worker threads, the
 * WAL checkpointer's); the returned function stops the rescans.
 */
export function keepHelperThreadsLowered(offset: number): () => void {
  if (!applies(offset)) return () => undefined;
  lowerHelperThreads(offset);
  const timer = setInterval(() => lowerHelperThreads(offset), RESCAN_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** Whether threads have a niceness of their own here, and this is the thread whose helpers to lower. */
function applies(offset: number): boolean {
  return offset > 0 && process.platform === 'linux' && isMainThread;
}
