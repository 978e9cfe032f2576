// The measured process of bench/agent.ts's memory benchmark. It loads nothing but what its
// mode needs, so that the baseline (`bare`: this same file, importing nothing) and the agent
// runs differ only by the agent:
//
//   node --expose-gc bench/dist/agent-memory-child.js MODE[+warm] URL TOKEN ROOT_PEM STATE_DIR
//
// `protocol` loads @smartlic/protocol/core (what the agent loads of the protocol); `import`
// loads @smartlic/agent; `setup` registers a device and exits; `steady` reopens that
// registered device (a restart) and renews its authorization; `fresh` registers in the
// measured process itself (which also loads the CSR code). `+warm` first runs hot JavaScript
// (see warmUp) as any product would have. Prints one JSON line.

import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { Agent } from '@smartlic/agent';

/** Entitlements each agent holds. */
export const ENTITLEMENTS = 100;

/** The tag of entitlement `i`. */
export const tagOf = (i: number): string => `regid.2026-01.com.example.bench.E${i}`;

export interface Memory {
  rss: number;
  heapUsed: number;
  /** Private (anonymous) resident memory, from /proc/self/status; 0 where there is none. */
  rssAnon: number;
  /** Resident pages mapped from files: the node binary's code, shared with every Node process. */
  rssFile: number;
}

/** A field of /proc/self/status in bytes, or 0 off Linux. */
function procStatus(field: string): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * What any product does before its agent matters: run hot JavaScript for a moment, so that V8's
 * optimizing compiler has compiled something. Its code is part of the node binary (about 4 MB of
 * file-backed pages, shared by every Node process) and is paged in by the first hot function of
 * any program; without this, the first hot loop of the agent would be charged for it.
 */
function warmUp(): void {
  // Numbers only: the warm-up allocates nothing, so that it leaves no heap behind.
  const mix = (x: number, i: number): number => (x * 31 + i) % 1_000_003;
  const until = Date.now() + 300;
  let acc = 0;
  while (Date.now() < until) for (let i = 0; i < 100_000; i++) acc = mix(acc, i);
  if (acc < 0) throw new Error('unreachable');
}

/** RSS and heap after full GCs. */
async function settledMemory(): Promise<Memory> {
  const g = (globalThis as { gc?: () => void }).gc;
  g?.();
  g?.();
  await new Promise((resolve) => setTimeout(resolve, 200));
  g?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, rssAnon: procStatus('RssAnon'), rssFile: procStatus('RssFile') };
}

/** Declares the entitlements and registers (which builds a CSR and authorizes them). */
async function registerAll(agent: Agent, url: string, token: string, rootPem: string): Promise<void> {
  await agent.setDestination(url, { authorityRootPem: rootPem });
  for (let i = 0; i < ENTITLEMENTS; i++) await agent.use(tagOf(i), 1 + (i % 5));
  const outcome = await agent.register(token);
  if (!outcome.ok || !outcome.followUps?.[0]?.ok) throw new Error(`registration: ${JSON.stringify(outcome)}`);
}

async function runProduct(agent: Agent): Promise<Memory> {
  const status = agent.status();
  if (status.authorization.status !== 'AUTHORIZED' || status.usage.length !== ENTITLEMENTS) {
    throw new Error(`not authorized with ${ENTITLEMENTS} entitlements: ${status.authorization.status}`);
  }
  const enforcer = agent.createEnforcer();
  const limiter = enforcer.createCpsLimiter({ licensedCps: () => enforcer.licensedCount(tagOf(0)) * 5 });
  for (let i = 0; i < ENTITLEMENTS; i++) enforcer.acquire(tagOf(i));
  limiter.tryCall();
  const memory = await settledMemory();
  limiter.close();
  return memory;
}

async function memoryChild(
  warm: boolean,
  mode: string,
  url: string,
  token: string,
  rootPemPath: string,
  stateDir: string,
): Promise<void> {
  const rootPem = await readFile(rootPemPath, 'utf8');
  let memory: Memory;
  if (warm) warmUp();
  if (mode === 'bare') {
    memory = await settledMemory();
  } else if (mode === 'protocol') {
    await import('@smartlic/protocol/core');
    memory = await settledMemory();
  } else if (mode === 'import') {
    await import('@smartlic/agent');
    memory = await settledMemory();
  } else if (mode === 'setup') {
    const { Agent } = await import('@smartlic/agent');
    await registerAll(await Agent.init({ pid: 'BENCH-MEM', profile: 'expressway' }, { stateDir }), url, token, rootPem);
    memory = await settledMemory();
  } else if (mode === 'steady') {
    const { Agent } = await import('@smartlic/agent');
    const agent = await Agent.open({ stateDir });
    const renewed = await agent.renewAuthorization();
    if (!renewed.ok) throw new Error(`renewal: ${renewed.message}`);
    memory = await runProduct(agent);
  } else {
    const { Agent } = await import('@smartlic/agent');
    const agent = await Agent.init({ pid: 'BENCH-MEM', profile: 'expressway' }, { stateDir });
    await registerAll(agent, url, token, rootPem);
    memory = await runProduct(agent);
  }
  process.stdout.write(`${JSON.stringify(memory)}\n`);
}

// Run as a program (bench/agent.ts imports this file only for its constants).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [how, url, token, rootPemPath, stateDir] = process.argv.slice(2);
  const [mode, warm] = (how ?? '').split('+');
  if (!mode || (warm !== undefined && warm !== 'warm') || !url || !token || !rootPemPath || !stateDir) {
    throw new Error(
      'usage: agent-memory-child.js bare|protocol|import|setup|steady|fresh[+warm] URL TOKEN ROOT_PEM STATE_DIR',
    );
  }
  await memoryChild(warm === 'warm', mode, url, token, rootPemPath, stateDir);
}
