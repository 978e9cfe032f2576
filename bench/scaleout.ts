import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { cryptoCeiling, median, serverArgs, setUpDevices, spread } from './authority-load.js';
import { type LoadResult, runLoad } from './load.js';
import { type BenchCluster, startBenchCluster } from './postgres-cluster.js';
import { cpuSeconds } from './proc-cpu.js';
import { writeResultsSection } from './results-file.js';
import { onInterrupt, type StartedProcess, startProcess, stop } from './server-process.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
/** Two processes may cost at most this many times one process's server CPU per authorization. */
const MAX_COST_RATIO = 1.25;
/**
 * BENCH_ROLLBACKS=1 also counts PostgreSQL transactions rolled back (SERIALIZABLE retries)
 * per phase. Idle backends publish their counts only after 10 s, so this adds two 11 s pauses
 * per phase: a diagnostic, off by default to keep the benchmark under 5 minutes. The pools
 * replace connections idle for 10 s during those pauses, so PostgreSQL's CPU is not measured then (NaN).
 */
const ROLLBACKS = process.env.BENCH_ROLLBACKS === '1';

interface Phase extends LoadResult {
  processes: number;
  /** Server CPU seconds (sum over the server processes, all threads) per 1,000 authorizations. */
  cpuPer1000: number;
  /** PostgreSQL's CPU seconds (postmaster and backends) per 1,000 authorizations. */
  dbCpuPer1000: number;
  /** Transactions rolled back per 100 committed over the measured window (BENCH_ROLLBACKS=1 only). */
  rollbackPct?: number;
}

/**
 * One run: a fresh database and data directory, server A set up with the devices, then the
 * same load against A alone and against A and B (a second `smartlic server` on the same data
 * directory and database, connections alternating between them). The order of the two
 * phases alternates between runs, so that neither always runs on the larger database.
 */
async function oneRun(run: number, cluster: BenchCluster, ceiling: number): Promise<Phase[]> {
  const dataDir = await mkdtemp(join(tmpdir(), 'smartlic-bench-'));
  const unregister = onInterrupt(() => rm(dataDir, { recursive: true, force: true }));
  const name = `bench_scaleout_${run}_${Date.now()}`;
  await cluster.createDatabase(name);
  const args = serverArgs(dataDir, cluster.url(name));
  let a: StartedProcess | undefined;
  let b: StartedProcess | undefined;
  try {
    process.stdout.write(`run ${run + 1}: setting up devices…\n`);
    a = await startProcess(args);
    const perDevice = Math.ceil((ceiling * SECONDS * 1.2 * 2) / DEVICES) + 60;
    const queues = await setUpDevices(a.url, dataDir, DEVICES, perDevice);
    const phases: Phase[] = [];
    const order = run % 2 === 0 ? [1, 2] : [2, 1];
    for (const processes of order) {
      if (processes === 2 && !b) b = await startProcess(args);
      if (processes === 1 && b) {
        await stop(b.child);
        b = undefined;
      }
      const servers = processes === 2 && b ? [a, b] : [a];
      const ports = servers.map((s) => Number(new URL(s.url).port));
      const portOf = (c: number) => ports[c % ports.length] ?? 0;
      let warmups = 0;
      await runLoad(portOf, DEVICES, 5_000, (c) => (warmups++ < DEVICES * 20 ? queues[c]?.pop() : undefined));
      process.stdout.write(`run ${run + 1}: ${processes} process(es), ${SECONDS} s at ${DEVICES} devices…\n`);
      const pids = servers.map((s) => s.child.pid ?? 0);
      const serverCpu = () => pids.reduce((sum, p) => sum + cpuSeconds(p), 0);
      const dbCpu = () => dbPids.reduce((sum, p) => sum + cpuSeconds(p), 0);
      const settle = () => new Promise((resolve) => setTimeout(resolve, 11_000));
      const tx0 = ROLLBACKS ? await settle().then(() => cluster.transactions(name)) : undefined;
      const dbPids = cluster.pids();
      const cpu0 = serverCpu();
      const db0 = dbCpu();
      const result = await runLoad(portOf, DEVICES, SECONDS * 1000, (c) => queues[c]?.pop());
      const cpu = serverCpu() - cpu0;
      const dbUsed = dbCpu() - db0;
      const tx1 = tx0 ? await settle().then(() => cluster.transactions(name)) : undefined;
      const rollbackPct =
        tx0 && tx1 ? (100 * (tx1.rolledBack - tx0.rolledBack)) / Math.max(1, tx1.committed - tx0.committed) : undefined;
      if (result.errors > 0) process.stdout.write(`status counts: ${JSON.stringify(result.statusCounts)}\n`);
      const requests = Math.max(1, result.requests);
      phases.push({
        ...result,
        processes,
        cpuPer1000: (1000 * cpu) / requests,
        dbCpuPer1000: ROLLBACKS ? Number.NaN : (1000 * dbUsed) / requests,
        ...(rollbackPct === undefined ? {} : { rollbackPct }),
      });
    }
    return phases.sort((x, y) => x.processes - y.processes);
  } finally {
    if (b) await stop(b.child);
    if (a) await stop(a.child);
    await rm(dataDir, { recursive: true, force: true });
    unregister();
  }
}

async function main(): Promise<void> {
  const load = loadavg()[0] ?? 0;
  const cluster = await startBenchCluster();
  const runs: Phase[][] = [];
  const ceilings: number[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      process.stdout.write(`run ${run + 1} of ${RUNS}: crypto ceiling…\n`);
      const ceiling = cryptoCeiling(Math.min(SECONDS, 5));
      ceilings.push(ceiling);
      runs.push(await oneRun(run, cluster, ceiling));
    }
  } finally {
    await cluster.stop();
  }
  const phase = (processes: number) => runs.map((r) => r.find((p) => p.processes === processes) as Phase);
  const one = phase(1);
  const two = phase(2);
  const ratios = runs.map((_, i) => (two[i]?.cpuPer1000 ?? Number.NaN) / (one[i]?.cpuPer1000 ?? Number.NaN));
  const ratio = median(ratios);
  const errors = [...one, ...two].reduce((s, p) => s + p.errors, 0);
  const pass = ratio <= MAX_COST_RATIO && errors === 0;
  const row = (label: string, ps: Phase[]) =>
    `| ${label} | ${spread(ps.map((p) => p.perSecond))} | ${spread(
      ps.map((p) => p.p50Ms),
      2,
    )} | ${spread(
      ps.map((p) => p.p99Ms),
      2,
    )} | ${ps.reduce((s, p) => s + p.errors, 0)} | ${spread(
      ps.map((p) => p.cpuPer1000),
      2,
    )} | ${spread(
      ps.map((p) => p.dbCpuPer1000),
      2,
    )} |${
      ROLLBACKS
        ? ` ${spread(
            ps.map((p) => p.rollbackPct ?? Number.NaN),
            1,
          )} |`
        : ''
    }`;
  const heading = '## bench/scaleout.ts';
  const lines = [
    heading,
    '',
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; load average ${load.toFixed(1)} at the start.`,
    `${RUNS} runs on one throw-away PostgreSQL cluster (fsync on, synchronous_commit on), each on a fresh database and data directory: authorization renewals from ${DEVICES} devices (one keep-alive connection each; with two processes the connections alternate between them), 5 s warm-up and ${SECONDS} s measured per phase; the phases' order alternates between runs. Servers, PostgreSQL and the load generator share the machine's cores.`,
    'Figures are the median (and the range) of the runs. Server CPU is the sum of utime+stime of the server processes (all threads, /proc/PID/stat) over the measured window; PostgreSQL CPU, that of the postmaster and its backends, is not in it.',
    '',
    `| server processes on one PostgreSQL | per second | p50 ms | p99 ms | errors | server CPU s per 1,000 | PostgreSQL CPU s per 1,000 |${ROLLBACKS ? ' transactions rolled back per 100 committed |' : ''}`,
    `|---|---|---|---|---|---|---|${ROLLBACKS ? '---|' : ''}`,
    row('one', one),
    row('two (same --data, same --db)', two),
    `| crypto ceiling: 1 ES256 verify + 1 ES256 sign, one core | ${spread(ceilings)} | | | | | |`,
    '',
    `Server CPU per authorization, two processes over one: **${ratio.toFixed(2)}×** (median; runs: ${ratios.map((r) => `${r.toFixed(2)}×`).join(', ')}).`,
    `Target: within ${MAX_COST_RATIO}× of one process's, no errors — ${pass ? 'PASS' : 'FAIL'}.`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (process.env.BENCH_WRITE !== '0') await writeResultsSection(heading, lines.join('\n'));
  process.exitCode = pass ? 0 : 1;
}

await main();
