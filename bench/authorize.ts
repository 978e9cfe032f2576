import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { newNonce } from '@smartlic/protocol';
import { cryptoCeiling, median, ROOT, serverArgs, setUpDevices, spread } from './authority-load.js';
import { type DbWork, measureDbWork } from './authorize-db.js';
import { clientMsPerRequest, httpPost, type LoadResult, runLoad } from './load.js';
import { type BenchCluster, startBenchCluster } from './postgres-cluster.js';
import { cpuSeconds, machineUse, mainThreadCpuSeconds, needAtTarget } from './proc-cpu.js';
import { writeResultsSection } from './results-file.js';
import { readServerCounters, type WindowFigures, windowFigures, windowSentence } from './server-counters.js';
import { onInterrupt, startProcess, stop } from './server-process.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 50);
/** Issue 15's targets: this share of the crypto ceiling, with this p99. */
const TARGET_PERCENT = 60;
const TARGET_P99_MS = 20;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
/** Extra node flags for the server process only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it. */
const SERVER_NODE_ARGS = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
/**
 * `sqlite` (default: the original benchmark with its echo baseline) or `sqlite,postgres`
 * (`npm run bench:authorize:pg`): the same load on each engine in the same run, BENCH_RUNS times.
 */
const ENGINES = (process.env.BENCH_ENGINES ?? 'sqlite').split(',').filter(Boolean);

type Engine = 'sqlite' | 'postgres';

interface EngineRun extends LoadResult {
  /** Server CPU seconds (utime+stime, all threads) per 1,000 authorizations over the measured window. */
  cpuPer1000: number;
  /** The same, of the server's main thread alone (the event loop). */
  mainCpuPer1000: number;
  /** PostgreSQL's own CPU seconds per 1,000 authorizations (postgres engine only). */
  dbCpuPer1000?: number;
  /** Transactions rolled back per 100 committed over the server's life, setup included (postgres only). */
  rollbackPct?: number;
  /** What the server's counters say of the measured window. */
  window: WindowFigures;
}

/**
 * `smartlic.js` of an earlier build (`git archive <commit>`, built elsewhere), measured beside this
 * one in the same runs: the load on this machine moves too much for results of different runs to compare.
 */
const BASELINE_CLI = process.env.BENCH_BASELINE_CLI;

/**
 * Starts a server on `engine` (fresh data dir; a fresh database of `cluster` for postgres), loads
 * it, stops it; `cli`: another build's `smartlic.js`.
 */
async function measureEngine(
  engine: Engine,
  ceiling: number,
  cluster?: BenchCluster,
  cli?: string,
): Promise<EngineRun> {
  const dataDir = await mkdtemp(join(tmpdir(), 'smartlic-bench-'));
  const unregister = onInterrupt(() => rm(dataDir, { recursive: true, force: true }));
  try {
    let db: string | undefined;
    const name = `bench_${Date.now()}`;
    if (engine === 'postgres') {
      if (!cluster) throw new Error('postgres needs a cluster');
      await cluster.createDatabase(name);
      db = cluster.url(name);
    }
    process.stdout.write(`${engine}: setting up devices…\n`);
    const server = await startProcess(serverArgs(dataDir, db, SERVER_NODE_ARGS, cli));
    const perDevice = Math.ceil((ceiling * SECONDS * 1.2) / DEVICES);
    const queues = await setUpDevices(server.url, dataDir, DEVICES, perDevice);
    const port = Number(new URL(server.url).port);
    let warmups = 0;
    await runLoad(port, DEVICES, 5_000, (c) => (warmups++ < DEVICES * 20 ? queues[c]?.pop() : undefined));
    process.stdout.write(`${engine}: ${SECONDS} s at ${DEVICES} concurrent devices…\n`);
    const pid = server.child.pid ?? 0;
    const dbPids = cluster && engine === 'postgres' ? cluster.pids() : [];
    const dbCpu = () => dbPids.reduce((sum, p) => sum + cpuSeconds(p), 0);
    const cpu0 = cpuSeconds(pid);
    const main0 = mainThreadCpuSeconds(pid);
    const db0 = dbCpu();
    const counters0 = await readServerCounters(server.url);
    const result = await runLoad(port, DEVICES, SECONDS * 1000, (c) => queues[c]?.pop());
    const cpu = cpuSeconds(pid) - cpu0;
    const mainCpu = mainThreadCpuSeconds(pid) - main0;
    const dbUsed = dbCpu() - db0;
    const window = windowFigures(counters0, await readServerCounters(server.url));
    await stop(server.child);
    // Its backends have exited and flushed their statistics: SERIALIZABLE retries show as rollbacks.
    const tx = cluster && engine === 'postgres' ? await cluster.transactions(name) : undefined;
    if (result.errors > 0) process.stdout.write(`${engine} status counts: ${JSON.stringify(result.statusCounts)}\n`);
    return {
      ...result,
      cpuPer1000: (1000 * cpu) / Math.max(1, result.requests),
      mainCpuPer1000: (1000 * mainCpu) / Math.max(1, result.requests),
      ...(engine === 'postgres' ? { dbCpuPer1000: (1000 * dbUsed) / Math.max(1, result.requests) } : {}),
      ...(tx ? { rollbackPct: (100 * tx.rolledBack) / Math.max(1, tx.committed) } : {}),
      window,
    };
  } finally {
    await rm(dataDir, { recursive: true, force: true });
    unregister();
  }
}

/**
 * The original benchmark: echo baseline, SQLite authority, crypto ceiling, BENCH_RUNS times (default
 * 3), and the baseline build (BENCH_BASELINE_CLI) in each run, in alternating order; writes
 * `## bench/authorize.ts`. Targets of issue 15: ≥ 60 % of the crypto ceiling, p99 < 20 ms.
 */
async function sqliteOnly(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const load = loadavg()[0] ?? 0;
  const ceilings: number[] = [];
  const echoes: LoadResult[] = [];
  const auths: EngineRun[] = [];
  const baselines: EngineRun[] = [];
  const dbWork: Record<'prepared' | 'kysely' | 'baseline', DbWork[]> = { prepared: [], kysely: [], baseline: [] };
  for (let i = 0; i < runs; i++) {
    process.stdout.write(`run ${i + 1} of ${runs}: crypto ceiling, ${Math.min(SECONDS, 5)} s on one core…\n`);
    const ceiling = cryptoCeiling(Math.min(SECONDS, 5));
    ceilings.push(ceiling);
    process.stdout.write('echo baseline…\n');
    echoes.push(await measureEcho());
    const order = BASELINE_CLI && i % 2 === 1 ? ['baseline', 'current'] : ['current', 'baseline'];
    for (const which of order) {
      if (which === 'current') auths.push(await measureEngine('sqlite', ceiling));
      else if (BASELINE_CLI) {
        process.stdout.write('baseline build: ');
        baselines.push(await measureEngine('sqlite', ceiling, undefined, BASELINE_CLI));
      }
    }
    process.stdout.write('database work in-process, 2 s each…\n');
    dbWork.prepared.push(await measureDbWork(ROOT, 'prepared', 2));
    dbWork.kysely.push(await measureDbWork(ROOT, 'kysely', 2));
    if (BASELINE_CLI) dbWork.baseline.push(await measureDbWork(baselineRoot(BASELINE_CLI), 'kysely', 2));
  }
  const dbRow = (name: string, rs: DbWork[]) =>
    `| ${name} | ${spread(
      rs.map((r) => r.cpuUs),
      1,
    )} | ${spread(
      rs.map((r) => r.wallUs),
      1,
    )} |`;
  const pct = (rs: LoadResult[]) => rs.map((r, i) => (100 * r.perSecond) / (ceilings[i] ?? Number.NaN));
  const row = (name: string, rs: LoadResult[], withPct = true) =>
    `| ${name} | ${spread(rs.map((r) => r.requests))} | ${spread(rs.map((r) => r.perSecond))} | ${spread(
      rs.map((r) => r.p50Ms),
      2,
    )} | ${spread(
      rs.map((r) => r.p99Ms),
      2,
    )} | ${rs.reduce((s, r) => s + r.errors, 0)} | ${withPct ? spread(pct(rs), 1) : ''} | ${
      'cpuPer1000' in (rs[0] ?? {})
        ? spread(
            (rs as EngineRun[]).map((r) => r.cpuPer1000),
            2,
          )
        : ''
    } | ${
      'mainCpuPer1000' in (rs[0] ?? {})
        ? spread(
            (rs as EngineRun[]).map((r) => r.mainCpuPer1000),
            2,
          )
        : ''
    } | ${spread(rs.map(clientMsPerRequest), 2)} |`;
  const share = median(pct(auths));
  const p99 = median(auths.map((r) => r.p99Ms));
  const errors = auths.reduce((s, r) => s + r.errors, 0);
  // Per renewal, in ms (s per 1,000): the server's CPU and the load generator's.
  const cpuMs = median(auths.map((r) => r.cpuPer1000));
  const clientMs = median(auths.map(clientMsPerRequest));
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const lines = [
    '## bench/authorize.ts',
    '',
    `Machine: ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; load average ${load.toFixed(1)} at the start.`,
    `${runs} runs; ${DEVICES} concurrent devices (one keep-alive connection each), 5 s warm-up and ${SECONDS} s measured per server; SQLite in WAL mode, every acknowledged commit on disk (ADR 0002).${BASELINE_CLI ? ' The baseline build is measured in each run too, in alternating order.' : ''}`,
    'Figures are the median (and the range) of the runs; the share of the crypto ceiling is taken within each run. Server CPU is utime+stime of the server process (all threads) over the measured window.',
    '',
    '| run | requests | per second | p50 ms | p99 ms | errors | % of the crypto ceiling | server CPU s per 1,000 | of which the event loop | load generator CPU s per 1,000 |',
    '|---|---|---|---|---|---|---|---|---|---|',
    row('fastify echo route (baseline)', echoes),
    row('authorization renewal', auths),
    ...(BASELINE_CLI ? [row('authorization renewal, baseline build', baselines)] : []),
    `| crypto ceiling: 1 ES256 verify + 1 ES256 sign, one core | | ${spread(ceilings)} | | | | 100 | | | |`,
    '',
    `The database work of one renewal in-process (its four statements in a unit of work, ${'50'} units queued at a time, 2 s; CPU of the whole process, all threads):`,
    '',
    '| database work of one authorization | CPU µs | wall µs |',
    '|---|---|---|',
    dbRow('this build: prepared statements, WAL synced off the event loop', dbWork.prepared),
    dbRow('this build: the same statements through Kysely', dbWork.kysely),
    ...(BASELINE_CLI ? [dbRow('baseline build: the same statements through Kysely', dbWork.baseline)] : []),
    '',
    `Authorization rate: **${share.toFixed(2)}% of the crypto ceiling** (median run), ${((100 * median(auths.map((r) => r.perSecond))) / median(echoes.map((r) => r.perSecond))).toFixed(1)}% of the echo route; p99 ${p99.toFixed(1)} ms; the event loop ${median(auths.map((r) => (100 * r.mainCpuPer1000 * r.perSecond) / 1000)).toFixed(0)}% busy (${median(auths.map((r) => r.mainCpuPer1000 * 1000)).toFixed(0)} µs per renewal).`,
    ...(BASELINE_CLI
      ? [
          `Against the baseline build in the same runs: ${auths
            .map((r, i) => `${(r.perSecond / (baselines[i]?.perSecond ?? Number.NaN)).toFixed(2)}×`)
            .join(', ')} the rate; server CPU per authorization ${auths
            .map((r, i) => `${(r.cpuPer1000 / (baselines[i]?.cpuPer1000 ?? Number.NaN)).toFixed(2)}×`)
            .join(
              ', ',
            )}; baseline at ${median(pct(baselines)).toFixed(1)}% of the ceiling, p99 ${median(baselines.map((r) => r.p99Ms)).toFixed(1)} ms.`,
        ]
      : []),
    machineUse(median(auths.map((r) => r.perSecond)), cpuMs, clientMs),
    ...windowSentence(
      auths.map((r) => r.window),
      auths.map((r) => (r.mainCpuPer1000 * r.perSecond) / 1000),
      'Medians of the runs:',
    ),
    needAtTarget(
      (TARGET_PERCENT / 100) * median(ceilings),
      cpuMs,
      median(auths.map((r) => r.mainCpuPer1000)),
      clientMs,
      'renewal',
    ),
    `Target: ≥ ${TARGET_PERCENT}% of the crypto ceiling with durable writes and p99 < ${TARGET_P99_MS} ms — ${share >= TARGET_PERCENT && p99 < TARGET_P99_MS && errors === 0 ? 'PASS' : 'FAIL'}.`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (process.env.BENCH_WRITE !== '0') await writeResultsSection('## bench/authorize.ts', `${lines.join('\n')}`);
}

/** The tree of the build whose `packages/cli/bin/smartlic.js` is `cli`. */
function baselineRoot(cli: string): string {
  return dirname(dirname(dirname(dirname(cli))));
}

/** The fastify echo route under the same load: what HTTP alone costs on this machine now. */
async function measureEcho(): Promise<LoadResult> {
  const echo = await startProcess([join(ROOT, 'bench/dist/echo-server.js')]);
  try {
    const echoPort = Number(new URL(echo.url).port);
    const sample = httpPost(
      '/echo',
      JSON.stringify({
        payload: { type: 'authorize', nonce: newNonce(), pad: 'x'.repeat(500) },
        signature: { alg: 'ES256', value: 'x'.repeat(86) },
      }),
    );
    return await runLoad(echoPort, DEVICES, SECONDS * 1000, () => sample);
  } finally {
    await stop(echo.child);
  }
}

/** The same load on each engine in one run, BENCH_RUNS times; writes `## PostgreSQL beside SQLite (bench/authorize.ts)`. */
async function engines(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const load = loadavg()[0] ?? 0;
  const cluster = ENGINES.includes('postgres') ? await startBenchCluster() : undefined;
  const ceilings: number[] = [];
  const results = new Map<Engine, EngineRun[]>();
  try {
    for (let i = 0; i < runs; i++) {
      process.stdout.write(`run ${i + 1} of ${runs}: crypto ceiling…\n`);
      const ceiling = cryptoCeiling(Math.min(SECONDS, 5));
      ceilings.push(ceiling);
      for (const engine of ENGINES as Engine[]) {
        const r = await measureEngine(engine, ceiling, cluster);
        results.set(engine, [...(results.get(engine) ?? []), { ...r, ceiling } as EngineRun]);
      }
    }
  } finally {
    await cluster?.stop();
  }
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const heading = '## PostgreSQL beside SQLite (bench/authorize.ts)';
  const label: Record<Engine, string> = {
    sqlite: 'authorization renewal, SQLite (WAL, the log fdatasynced before acknowledging)',
    postgres: 'authorization renewal, PostgreSQL (fsync on, synchronous_commit on, renewal at READ COMMITTED)',
  };
  const lines = [
    heading,
    '',
    `Machine: ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; load average ${load.toFixed(1)} at the start.`,
    `${runs} runs; in each, the crypto ceiling, then each engine in turn on a fresh server and database: ${DEVICES} concurrent devices (one keep-alive connection each), 5 s warm-up, ${SECONDS} s measured. PostgreSQL ${cluster ? 'is a throw-away local cluster on 127.0.0.1 started by the script' : ''}, on the same 2 cores as the server and the load generator.`,
    "Figures are the median (and the range) of the runs. Server CPU is utime+stime of the server process (all its threads) over the measured window; PostgreSQL CPU that of the postmaster and its backends. Rollbacks (pg_stat_database, over the server's whole life: setup, warm-up and run) are mostly SERIALIZABLE units retried after 40001/40P01.",
    '',
    '| run | per second | p50 ms | p99 ms | errors | server CPU s per 1,000 | PostgreSQL CPU s per 1,000 | % of the crypto ceiling | PostgreSQL transactions rolled back per 100 committed |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const engine of ENGINES as Engine[]) {
    const rs = results.get(engine) ?? [];
    const pct = rs.map((r, i) => (100 * r.perSecond) / (ceilings[i] ?? Number.NaN));
    const pg = engine === 'postgres';
    const cells = [
      label[engine],
      spread(rs.map((r) => r.perSecond)),
      spread(
        rs.map((r) => r.p50Ms),
        2,
      ),
      spread(
        rs.map((r) => r.p99Ms),
        2,
      ),
      String(rs.reduce((s, r) => s + r.errors, 0)),
      spread(
        rs.map((r) => r.cpuPer1000),
        2,
      ),
      pg
        ? spread(
            rs.map((r) => r.dbCpuPer1000 ?? Number.NaN),
            2,
          )
        : '',
      spread(pct, 1),
      pg
        ? spread(
            rs.map((r) => r.rollbackPct ?? Number.NaN),
            1,
          )
        : '',
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  lines.push(`| crypto ceiling: 1 ES256 verify + 1 ES256 sign, one core | ${spread(ceilings)} | | | | | | 100 | |`, '');
  process.stdout.write(`${lines.join('\n')}\n`);
  if (process.env.BENCH_WRITE !== '0') await writeResultsSection(heading, lines.join('\n'));
}

if (ENGINES.length === 1 && ENGINES[0] === 'sqlite') await sqliteOnly();
else await engines();
