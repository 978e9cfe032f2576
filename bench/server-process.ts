import { type ChildProcess, spawn } from 'node:child_process';

/** A `smartlic server` (or any process that prints `listening on URL`) started by a benchmark. */
export interface StartedProcess {
  child: ChildProcess;
  url: string;
  /** Milliseconds from spawn until it printed its URL. */
  ms: number;
}

/** Every process a benchmark started and has not seen exit: stopped if the benchmark is interrupted. */
const children = new Set<ChildProcess>();
/** Clean-ups (temp dirs, database clusters) to run if the benchmark is interrupted. */
const cleanups = new Set<() => Promise<void>>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all([...children].map((child) => stop(child)));
    await Promise.allSettled([...cleanups].map((cleanup) => cleanup()));
    process.exit(130);
  });
}

/**
 * Runs `cleanup` if the benchmark is interrupted (Ctrl-C, SIGTERM) after its servers have
 * stopped; returns the function that unregisters it (call it once the benchmark cleaned up itself).
 */
export function onInterrupt(cleanup: () => Promise<void>): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/** Starts `node ARGS…` and resolves once it prints `listening on http(s)://…`. */
export function startProcess(args: string[]): Promise<StartedProcess> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (https?:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve({ child, url: m[1], ms: performance.now() - started });
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${out}`)));
  });
}

/** SIGTERM, then SIGKILL after 10 s; resolves once the process has exited. */
export function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Calls the admin API: POST with `body`, GET without; throws on a non-2xx answer. */
export async function api<T>(url: string, key: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}
