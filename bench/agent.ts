// Benchmark of the agent (issue 3): (1) the CPS limiter's per-call check — median ns per call and
// heap bytes allocated per call, against an empty function in the same loop shape, in the same
// run; (2) the resident memory of a process running an agent registered with 100 entitlements,
// against a bare Node process. Writes the `## bench/agent.ts` section of bench/RESULTS.md.
//
//   npm run bench:agent                         (node --expose-gc bench/dist/agent.js)
//   BENCH_CALLS=20000000 BENCH_ROUNDS=21 npm run bench:agent
//   BENCH_WRITE=0 npm run bench:agent           (print only, leave RESULTS.md alone)
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
// Only types at the top: the memory children run this file too, and each loads what it measures.
import type { CpsLimiter } from '@smartlic/agent';
import { ENTITLEMENTS, type Memory, tagOf } from './agent-memory-child.js';
import { writeResultsSection } from './results-file.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 10_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const MEMORY_RUNS = Number(process.env.BENCH_MEMORY_RUNS ?? 3);
const CHILD = fileURLToPath(new URL('./agent-memory-child.js', import.meta.url));
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
  const { ManualClock } = await import('@smartlic/protocol/core');
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

interface MemoryResult {
  /** Cold: nothing run before the measurement. */
  bareCold: Memory;
  steadyCold: Memory;
  /** Warm (`+warm`): hot JavaScript ran first, as in any product. */
  bare: Memory;
  protocol: Memory;
  imported: Memory;
  steady: Memory;
  fresh: Memory;
}

async function memoryBench(): Promise<MemoryResult> {
  // Loaded here only: the child processes must not load the test authority.
  const { FakeAuthority } = await import('@smartlic/agent/testing');
  const fake = await FakeAuthority.start({ https: true });
  const dir = await mkdtemp(join(tmpdir(), 'smartlic-bench-agent-'));
  try {
    for (let i = 0; i < ENTITLEMENTS; i++) fake.setLicenses(tagOf(i), 1000, `Bench ${i}`);
    const rootPemPath = join(dir, 'root.pem');
    await writeFile(rootPemPath, fake.rootCaPem);
    const runs: Record<keyof MemoryResult, Memory[]> = {
      bareCold: [],
      steadyCold: [],
      bare: [],
      protocol: [],
      imported: [],
      steady: [],
      fresh: [],
    };
    const child = (mode: string, state: string) =>
      nodeJson<Memory>([CHILD, mode, fake.url, fake.createToken(), rootPemPath, join(dir, state)]);
    for (let run = 0; run < MEMORY_RUNS; run++) {
      runs.bareCold.push(await child('bare', `bare-cold-${run}`));
      runs.bare.push(await child('bare+warm', `bare-${run}`));
      runs.protocol.push(await child('protocol+warm', `protocol-${run}`));
      runs.imported.push(await child('import+warm', `import-${run}`));
      await child('setup', `steady-${run}`);
      runs.steady.push(await child('steady+warm', `steady-${run}`));
      runs.steadyCold.push(await child('steady', `steady-${run}`));
      runs.fresh.push(await child('fresh+warm', `fresh-${run}`));
    }
    const pick = (list: Memory[]): Memory => ({
      rss: median(list.map((m) => m.rss)),
      heapUsed: median(list.map((m) => m.heapUsed)),
      rssAnon: median(list.map((m) => m.rssAnon)),
      rssFile: median(list.map((m) => m.rssFile)),
    });
    return Object.fromEntries(
      Object.entries(runs).map(([name, list]) => [name, pick(list)]),
    ) as unknown as MemoryResult;
  } finally {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  }
}

// --- report ---------------------------------------------------------------------------------

const SECTION = '## bench/agent.ts';

async function main(): Promise<void> {
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
  const fmt = (n: number, digits = 2): string => n.toFixed(digits);
  const overBare = (m: Memory, bare = memory.bare): number => (m.rss - bare.rss) / MB;
  const [importDelta, steadyDelta, freshDelta, coldDelta] = [
    overBare(memory.imported),
    overBare(memory.steady),
    overBare(memory.fresh),
    overBare(memory.steadyCold, memory.bareCold),
  ];
  const memRow = (name: string, m: Memory, bare = memory.bare): string =>
    `| ${name} | ${fmt(m.rss / MB, 1)} | ${fmt(m.rssAnon / MB, 1)} | ${fmt(m.rssFile / MB, 1)} | ${fmt(m.heapUsed / MB, 1)} | ${m === bare ? '' : fmt(overBare(m, bare), 1)} |`;
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
    '*Registered in-process*: the same process also built the CSR and registered.',
    "*Warm*: the process first ran 300 ms of hot JavaScript, as any product has, so that V8's optimizing",
    "compiler, about 4 MB of the node binary's code (file-backed pages shared by every Node process), is",
    'resident in the baseline too and is not charged to the agent. The cold rows show it.',
    '',
    '| process | RSS MB | of it private MB | of it file-backed MB | heap used MB | RSS over its bare baseline MB |',
    '|---|---|---|---|---|---|',
    memRow("bare Node, warm (this bench's child, loading nothing)", memory.bare),
    memRow("`import('@smartlic/protocol/core')` (what the agent loads of the protocol), warm", memory.protocol),
    memRow("`import('@smartlic/agent')`, warm", memory.imported),
    memRow(`agent, ${ENTITLEMENTS} entitlements, restarted, warm`, memory.steady),
    memRow(`agent, ${ENTITLEMENTS} entitlements, registered in-process, warm`, memory.fresh),
    memRow('bare Node, cold', memory.bareCold, memory.bareCold),
    memRow(`agent, ${ENTITLEMENTS} entitlements, restarted, cold`, memory.steadyCold, memory.bareCold),
    '',
    `Agent over a bare Node process: **${fmt(steadyDelta, 1)} MB** (restarted), ${fmt(freshDelta, 1)} MB (registered in-process);`,
    `of which loading the code is ${fmt(importDelta, 1)} MB (${fmt(overBare(memory.protocol), 1)} MB of it @smartlic/protocol/core)`,
    `and the running agent with its ${ENTITLEMENTS} entitlements ${fmt(steadyDelta - importDelta, 1)} MB.`,
    `Cold, where the agent's first hot loop also pages in the optimizing compiler: ${fmt(coldDelta, 1)} MB.`,
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
