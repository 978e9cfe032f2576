import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { getPriority } from 'node:os';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { lowerHelperThreads } from './helper-threads.js';

const helperIds = () =>
  readdirSync('/proc/self/task')
    .map(Number)
    .filter((tid) => tid !== process.pid);

/** A worker thread that stays until terminated, started and running. */
async function startWorker(): Promise<Worker> {
  const worker = new Worker(
    "require('node:worker_threads').parentPort.postMessage('up'); setInterval(() => {}, 1000);",
    {
      eval: true,
    },
  );
  await new Promise((resolve) => worker.once('message', resolve));
  return worker;
}

describe.skipIf(process.platform !== 'linux')('helper threads below the event loop', () => {
  const workers: Worker[] = [];
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.terminate()));
  });

  it('lowers every thread but the main one, once, and finds threads started later', async () => {
    await readFile(import.meta.filename); // the thread pool starts on its first job
    workers.push(await startWorker());
    const base = getPriority();
    const target = Math.min(19, base + 3);
    expect(lowerHelperThreads(3)).toBeGreaterThan(0);
    expect(getPriority()).toBe(base);
    for (const tid of helperIds()) expect(getPriority(tid), `thread ${tid}`).toBe(target);
    expect(lowerHelperThreads(3)).toBe(0);

    workers.push(await startWorker());
    expect(lowerHelperThreads(3)).toBeGreaterThan(0);
    for (const tid of helperIds()) expect(getPriority(tid), `thread ${tid}`).toBe(target);
    expect(getPriority()).toBe(base);
  });

  it('does nothing with an offset of 0, or without a task list', () => {
    expect(lowerHelperThreads(0)).toBe(0);
    expect(lowerHelperThreads(3, '/proc/self/no-such-list')).toBe(0);
  });
});
