// Benchmark of the agent (issue 3): (1) the CPS limiter's per-call check — median ns per call and
// heap bytes allocated per call, against an empty function in the same loop shape, in the same
// run; (2) the resident memory of a process running an agent registered with 100 entitlements,
// against a bare Node process. Writes the `## bench/agent.ts` section of bench/RESULTS.md.
//
//   npm run bench:agent                         (node --expose-gc bench/dist/agent.js)
//   BENCH_CALLS=20000000 BENCH_ROUNDS=21 npm run bench:agent
//   BENCH_WRITE=0 npm run bench:agent           (print only, leave RESULTS.md alone)
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
// Only types at the top: the memory children run this file too, and each loads what it measures.
import type { Agent, CpsLimiter } from '@smartlic/agent';
import { writeResultsSection } from './results-file.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 10_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const MEMORY_RUNS = Number(process.env.BENCH_MEMORY_RUNS ?? 3);
const ENTITLEMENTS = 100;
const SELF = fileURLToPath(import.meta.url);
const MB = 1024 * 1024;

const gc = (globalThis as { gc?: () => void }).gc;

/** What both loops call: the limiter, or an object whose `tryCall` does nothing. */
interface Check {
  tryCall(): boolean;
}

// Two copies of the same loop, so that each call site stays monomorphic (one target each).
function loopLimiter(check: CpsLimiter, n: number): number {
  let ok = 0;
  for (let i = 0; i < n; i++) if (check.tryCall()) ok++;
  return ok;
}

function loopEmpty(check: Check, n: number): number {
  let ok = 0;
  for (let i = 0; i < n; i++) if (check.tryCall()) ok++;
  return ok;
}

function nsPerCall(loop: () => number, n: number): number {
  const start = process.hrtime.bigint();
  const ok = loop();
  const ns = Number(process.hrtime.bigint() - start) / n;
  if (ok < 0) throw new Error('unreachable');
  return ns;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

/** Heap bytes allocated per call over `n` calls, and how many GCs ran meanwhile (0 GCs + ~0 bytes: nothing allocated). */
async function allocation(loop: () => number, n: number): Promise<{ bytesPerCall: number; gcs: number }> {
  if (!gc) throw new Error('run with node --expose-gc (npm run bench:agent does)');
  let gcs = 0;
  const observer = new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
  });
  gc();
  gc();
  observer.observe({ entryTypes: ['gc'] });
  const before = process.memoryUsage().heapUsed;
  loop();
  const after = process.memoryUsage().heapUsed;
  await new Promise((resolve) => setTimeout(resolve, 50));
  observer.disconnect();
  return { bytesPerCall: (after - before) / n, gcs };
}

interface CpsResult {
  emptyNs: number;
  acceptNs: number;
  rejectNs: number;
  /** The fastest round of each, for context on a busy machine. */
  best: { empty: number; accept: number; reject: number };
  allocation: {
    empty: { bytesPerCall: number; gcs: number };
    accept: { bytesPerCall: number; gcs: number };
    reject: { bytesPerCall: number; gcs: number };
  };
}

async function cpsBench(): Promise<CpsResult> {
  const { createCpsLimiter } = await import('@smartlic/agent');
  const { ManualClock } = await import('@smartlic/protocol');
  const clock = new ManualClock(Date.now());
  const accepting = createCpsLimiter({ licensedCps: 1e12, clock, timer: false });
  const rejecting = createCpsLimiter({ licensedCps: 1, clock, timer: false });
  for (let i = 0; i < 1000; i++) rejecting.tryCall();
  clock.advance(30_000);
  rejecting.update();
  if (!rejecting.isRejecting) throw new Error('the rejecting limiter does not reject');
  const empty: Check = { tryCall: () => true };

  const runs = { empty: [] as number[], accept: [] as number[], reject: [] as number[] };
  // Warm-up: let the optimising compiler see each loop.
  for (let r = 0; r < 3; r++) {
    loopEmpty(empty, CALLS);
    loopLimiter(accepting, CALLS);
    loopLimiter(rejecting, CALLS);
  }
  for (let r = 0; r < ROUNDS; r++) {
    runs.empty.push(nsPerCall(() => loopEmpty(empty, CALLS), CALLS));
    runs.accept.push(nsPerCall(() => loopLimiter(accepting, CALLS), CALLS));
    runs.reject.push(nsPerCall(() => loopLimiter(rejecting, CALLS), CALLS));
  }
  if (accepting.isRejecting || !rejecting.isRejecting) throw new Error('a limiter changed its mind');
  return {
    emptyNs: median(runs.empty),
    acceptNs: median(runs.accept),
    rejectNs: median(runs.reject),
    best: { empty: Math.min(...runs.empty), accept: Math.min(...runs.accept), reject: Math.min(...runs.reject) },
    allocation: {
      empty: await allocation(() => loopEmpty(empty, CALLS), CALLS),
      accept: await allocation(() => loopLimiter(accepting, CALLS), CALLS),
      reject: await allocation(() => loopLimiter(rejecting, CALLS), CALLS),
    },
  };
}

// --- memory ---------------------------------------------------------------------------------

/** Runs `node --expose-gc <args>` and parses the JSON line it prints last. */
function nodeJson<T>(args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', ...args], { timeout: 120_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${args.join(' ')}: ${error.message}\n${stderr}`));
      const last = stdout.trim().split('\n').at(-1) ?? '';
      resolve(JSON.parse(last) as T);
    });
  });
}

interface Memory {
  rss: number;
  heapUsed: number;
}

/** RSS and heap after full GCs, as the child prints it. */
async function settledMemory(): Promise<Memory> {
  const g = (globalThis as { gc?: () => void }).gc;
  g?.();
  g?.();
  await new Promise((resolve) => setTimeout(resolve, 200));
  g?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed };
}

const BARE = `globalThis.gc(); globalThis.gc(); await new Promise((r) => setTimeout(r, 200)); globalThis.gc();
const m = process.memoryUsage(); console.log(JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed }));`;
const tagOf = (i: number): string => `regid.2026-01.com.example.bench.E${i}`;

/** Declares the 100 entitlements and registers (which builds a CSR and authorizes them). */
async function registerAll(agent: Agent, url: string, token: string, rootPem: string): Promise<void> {
  await agent.setDestination(url, { trustPem: rootPem });
  for (let i = 0; i < ENTITLEMENTS; i++) await agent.use(tagOf(i), 1 + (i % 5));
  const outcome = await agent.register(token);
  if (!outcome.ok || !outcome.followUps?.[0]?.ok) throw new Error(`registration: ${JSON.stringify(outcome)}`);
}

/** What a running product does with its agent: an enforcer with uses taken, a CPS limiter on its timer. */
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

/**
 * The child processes: `protocol` only loads @smartlic/protocol (zod and the message schemas);
 * `import` only loads @smartlic/agent and node:https; `setup` registers a
 * device and exits; `steady` reopens that registered device (a restart) and renews its
 * authorization; `fresh` registers in the measured process itself (which also loads the CSR code).
 */
async function memoryChild(
  mode: string,
  url: string,
  token: string,
  rootPemPath: string,
  stateDir: string,
): Promise<void> {
  const rootPem = await readFile(rootPemPath, 'utf8');
  let memory: Memory;
  if (mode === 'protocol') {
    await import('@smartlic/protocol');
    memory = await settledMemory();
  } else if (mode === 'import') {
    await import('@smartlic/agent');
    await import('node:https');
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

interface MemoryResult {
  bare: Memory;
  protocol: Memory;
  imported: Memory;
  steady: Memory;
  fresh: Memory;
}

async function memoryBench(): Promise<MemoryResult> {
  // Loaded here only: the child processes run this same file and must not load the test authority.
  const { FakeAuthority } = await import('@smartlic/agent/testing');
  const fake = await FakeAuthority.start({ https: true });
  const dir = await mkdtemp(join(tmpdir(), 'smartlic-bench-agent-'));
  try {
    for (let i = 0; i < ENTITLEMENTS; i++) fake.setLicenses(tagOf(i), 1000, `Bench ${i}`);
    const rootPemPath = join(dir, 'root.pem');
    await writeFile(rootPemPath, fake.rootCaPem);
    const runs: Record<keyof MemoryResult, Memory[]> = { bare: [], protocol: [], imported: [], steady: [], fresh: [] };
    const child = (mode: string, state: string) =>
      nodeJson<Memory>([SELF, '--memory-child', mode, fake.url, fake.createToken(), rootPemPath, join(dir, state)]);
    for (let run = 0; run < MEMORY_RUNS; run++) {
      runs.bare.push(await nodeJson<Memory>(['--input-type=module', '-e', BARE]));
      runs.protocol.push(await child('protocol', `protocol-${run}`));
      runs.imported.push(await child('import', `import-${run}`));
      await child('setup', `steady-${run}`);
      runs.steady.push(await child('steady', `steady-${run}`));
      runs.fresh.push(await child('fresh', `fresh-${run}`));
    }
    const pick = (list: Memory[]): Memory => ({
      rss: median(list.map((m) => m.rss)),
      heapUsed: median(list.map((m) => m.heapUsed)),
    });
    return {
      bare: pick(runs.bare),
      protocol: pick(runs.protocol),
      imported: pick(runs.imported),
      steady: pick(runs.steady),
      fresh: pick(runs.fresh),
    };
  } finally {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  }
}

// --- report ---------------------------------------------------------------------------------

const SECTION = '## bench/agent.ts';

async function main(): Promise<void> {
  if (process.argv[2] === '--memory-child') {
    const [mode, url, token, rootPemPath, stateDir] = process.argv.slice(3);
    if (!mode || !url || !token || !rootPemPath || !stateDir) {
      throw new Error('usage: --memory-child import|setup|steady|fresh URL TOKEN ROOT_PEM STATE_DIR');
    }
    return memoryChild(mode, url, token, rootPemPath, stateDir);
  }
  const startLoad = loadavg()[0] ?? 0;
  process.stdout.write(`CPS check: ${ROUNDS} rounds of ${CALLS.toLocaleString('en')} calls…\n`);
  const cps = await cpsBench();
  process.stdout.write(
    `memory: ${MEMORY_RUNS} runs of a bare process and of an agent with ${ENTITLEMENTS} entitlements…\n`,
  );
  const memory = await memoryBench();

  const overhead = cps.acceptNs - cps.emptyNs;
  const alloc = cps.allocation;
  const maxBytes = Math.max(alloc.accept.bytesPerCall, alloc.reject.bytesPerCall);
  const zeroAlloc = alloc.accept.gcs === 0 && alloc.reject.gcs === 0 && maxBytes < 0.01;
  const overBare = (m: Memory): number => (m.rss - memory.bare.rss) / MB;
  const [importDelta, steadyDelta, freshDelta] = [
    overBare(memory.imported),
    overBare(memory.steady),
    overBare(memory.fresh),
  ];
  const fmt = (n: number, digits = 2): string => n.toFixed(digits);
  const memRow = (name: string, m: Memory): string =>
    `| ${name} | ${fmt(m.rss / MB, 1)} | ${fmt(m.heapUsed / MB, 1)} | ${m === memory.bare ? '' : fmt(overBare(m), 1)} |`;
  const allocRow = (name: string, a: { bytesPerCall: number; gcs: number }): string =>
    `| ${name} | ${fmt(a.bytesPerCall, 4)} | ${a.gcs} |`;
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const lines = [
    SECTION,
    '',
    `Machine: ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; load average ${startLoad.toFixed(1)} at the start.`,
    '',
    `### CPS check (\`CpsLimiter.tryCall\`), ${ROUNDS} rounds × ${CALLS.toLocaleString('en')} calls, median per call`,
    '',
    '| loop body | median ns per call | fastest round |',
    '|---|---|---|',
    `| empty function (baseline, same loop shape) | ${fmt(cps.emptyNs)} | ${fmt(cps.best.empty)} |`,
    `| \`tryCall()\`, accepting | ${fmt(cps.acceptNs)} | ${fmt(cps.best.accept)} |`,
    `| \`tryCall()\`, rejecting (over the licensed rate) | ${fmt(cps.rejectNs)} | ${fmt(cps.best.reject)} |`,
    '',
    `Cost of the check over the empty function: **${fmt(overhead)} ns** accepting, ${fmt(cps.rejectNs - cps.emptyNs)} ns rejecting.`,
    '',
    `Heap allocated over ${CALLS.toLocaleString('en')} calls after warm-up (\`heapUsed\` delta between forced GCs; GCs observed during the loop):`,
    '',
    '| loop body | bytes per call | GCs during the loop |',
    '|---|---|---|',
    allocRow('empty function', alloc.empty),
    allocRow('`tryCall()`, accepting', alloc.accept),
    allocRow('`tryCall()`, rejecting', alloc.reject),
    '',
    `Target: under 50 ns median and zero allocations per call — ${cps.acceptNs < 50 && cps.rejectNs < 50 && zeroAlloc ? 'met' : 'NOT met'}.`,
    '',
    `### Resident memory, agent with ${ENTITLEMENTS} entitlements (median of ${MEMORY_RUNS} processes each, after GC)`,
    '',
    `Each agent process holds ${ENTITLEMENTS} entitlements, registered and AUTHORIZED over HTTPS by a FakeAuthority`,
    'in the bench process (100 pools of 1,000), with an enforcer holding one use of every entitlement and a CPS',
    'limiter on its timer. *Restarted*: the device was registered by an earlier process; this one opens',
    'the state and renews the authorization (a product after a restart, the steady state for months).',
    '*Registered in-process*: the same process also built the CSR, which loads @peculiar/x509.',
    '',
    '| process | RSS MB | heap used MB | RSS over bare Node MB |',
    '|---|---|---|---|',
    memRow('bare Node (`node --expose-gc -e`)', memory.bare),
    memRow("`import('@smartlic/protocol')` only (zod and the message schemas)", memory.protocol),
    memRow("`import('@smartlic/agent')` and node:https only", memory.imported),
    memRow(`agent, ${ENTITLEMENTS} entitlements, restarted`, memory.steady),
    memRow(`agent, ${ENTITLEMENTS} entitlements, registered in-process`, memory.fresh),
    '',
    `Agent over the bare process: **${fmt(steadyDelta, 1)} MB** (restarted), ${fmt(freshDelta, 1)} MB (registered in-process);`,
    `of which loading the code is ${fmt(importDelta, 1)} MB (${fmt(overBare(memory.protocol), 1)} MB of it @smartlic/protocol, mostly zod)`,
    `and the running agent with its ${ENTITLEMENTS} entitlements ${fmt(steadyDelta - importDelta, 1)} MB.`,
    `Target: under 15 MB above a bare Node process — ${steadyDelta < 15 && freshDelta < 15 ? 'met' : 'NOT met'}.`,
    '',
  ];
  const section = lines.join('\n');
  process.stdout.write(`\n${section}`);
  if (process.env.BENCH_WRITE !== '0') {
    await writeResultsSection(SECTION, section);
  }
}

await main();
