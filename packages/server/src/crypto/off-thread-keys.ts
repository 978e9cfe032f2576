import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';

// The worker is plain CommonJS evaluated from this string, so that it runs the same from the
// sources (tests) and from the build. It takes JWKs in batches and answers a batch in one
// message: each JWK with the KeyObject (which crosses threads without copying the key) or with
// the import's error message.
const WORKER = `
const { parentPort } = require('node:worker_threads');
const { createPublicKey } = require('node:crypto');
parentPort.on('message', (batch) => {
  parentPort.postMessage(batch.map(({ id, jwk }) => {
    try {
      return { id, key: createPublicKey({ key: jwk, format: 'jwk' }) };
    } catch (error) {
      return { id, message: String((error && error.message) || error) };
    }
  }));
});
`;

type Answer = { id: number; key?: KeyObject; message?: string };
type Question = { id: number; jwk: JsonWebKey };

let worker: Worker | undefined;
/** Whether the worker runs its script: until then keys are imported here, so that no request waits for it to start. */
let online = false;
let failed = false;
let nextId = 0;
let answered = 0;
let batchesPosted = 0;
const onlineWaiters: Array<(online: boolean) => void> = [];
const pending = new Map<number, { resolve(key: KeyObject): void; reject(error: Error): void; jwk: JsonWebKey }>();
/** Keys asked for since the last batch was posted. */
let outbox: Question[] = [];
let flushScheduled = false;

function settle(answer: Answer): void {
  const waiting = pending.get(answer.id);
  if (!waiting) return;
  pending.delete(answer.id);
  if (pending.size === 0) worker?.unref();
  answered++;
  if (answer.key) waiting.resolve(answer.key);
  else waiting.reject(new Error(answer.message ?? 'the key could not be imported'));
}

/** A worker that stopped answers nothing more: what waited for it is imported here instead. */
function fail(): void {
  if (failed) return;
  failed = true;
  online = false;
  worker = undefined;
  outbox = [];
  for (const wake of onlineWaiters.splice(0)) wake(false);
  for (const [id, waiting] of pending) {
    pending.delete(id);
    importHere(waiting.jwk).then(waiting.resolve, waiting.reject);
  }
}

function started(): Worker | undefined {
  if (failed) return undefined;
  if (!worker) {
    try {
      worker = new Worker(WORKER, { eval: true });
    } catch {
      failed = true;
      return undefined;
    }
    worker.on('online', () => {
      online = true;
      for (const wake of onlineWaiters.splice(0)) wake(true);
    });
    worker.on('message', (answers: Answer[]) => {
      for (const answer of answers) settle(answer);
    });
    worker.on('error', fail);
    worker.on('exit', fail);
    // An idle worker does not keep the process alive.
    worker.unref();
  }
  return worker;
}

/**
 * Posts the keys asked for during this turn of the event loop as one message: a message costs
 * both threads a wake-up and its own (de)serialisation, which at a batch of one cost as much CPU
 * as the import itself (issue 15).
 */
function flush(): void {
  flushScheduled = false;
  const batch = outbox;
  outbox = [];
  if (batch.length === 0 || !worker) return;
  worker.postMessage(batch);
  batchesPosted++;
}

async function importHere(jwk: JsonWebKey): Promise<KeyObject> {
  return createPublicKey({ key: jwk, format: 'jwk' });
}

/**
 * `createPublicKey({ key: jwk, format: 'jwk' })`, run on a worker thread (ADR 0021). OpenSSL 3
 * validates an imported P-256 point with as much work as a signature verification (~0.3 ms);
 * on the event loop that was a fifth signature operation per registration. The worker is started
 * on first use and shared by the process, and used once it runs (keys are imported here until then,
 * so that no request waits for it to start); its KeyObject crosses back without copying the key.
 * Rejects with the import's error for a key OpenSSL refuses (a point off the curve). If the worker
 * cannot run, keys are imported here, as before. Keys asked for in one turn of the event loop
 * go to the worker in one message.
 */
export function importPublicJwkOffThread(jwk: JsonWebKey): Promise<KeyObject> {
  const running = started();
  if (!running || !online) return importHere(jwk);
  return new Promise<KeyObject>((resolve, reject) => {
    const id = nextId++;
    if (pending.size === 0) running.ref();
    pending.set(id, { resolve, reject, jwk });
    outbox.push({ id, jwk });
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  });
}

/** Starts the worker if it is not running and resolves once it runs (true), or could not start (false). */
export function keyImportWorkerOnline(): Promise<boolean> {
  if (!started()) return Promise.resolve(false);
  if (online) return Promise.resolve(true);
  return new Promise((resolve) => onlineWaiters.push(resolve));
}

/** How many keys the worker has answered so far (for tests). */
export function keysImportedOffThread(): number {
  return answered;
}

/** How many messages of keys have gone to the worker so far (for tests). */
export function keyBatchesPosted(): number {
  return batchesPosted;
}
