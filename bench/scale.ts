import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEVICE_ROUTES } from '@smartlic/protocol';
import BetterSqlite3 from 'better-sqlite3';
import { authorizeBody, type Device, registerDevice } from './authority-load.js';
import { cpuSeconds } from './proc-cpu.js';
import { writeResultsSection } from './results-file.js';
import { api, type StartedProcess, startProcess, stop } from './server-process.js';

const SIZES = (process.env.BENCH_SCALE_SIZES ?? '100000,1000000').split(',').map(Number);
const RUNS = 3;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TAG = 'regid.2026-01.com.example.scale';
const PAGE = 50;
/**
 * `BENCH_SCALE_SILENT=1`: every seeded instance has been silent 40 days, as the silent-instance
 * job leaves them (counted in the VA's silent usage), except the last `FRESHLY_SILENT`, fallen
 * silent since its last run; the server's jobs are held off so that they do not run meanwhile.
 */
const SILENT = process.env.BENCH_SCALE_SILENT === '1';
const FRESHLY_SILENT = 1000;
/** Extra node flags for the server process only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`. */
const SERVER_NODE_ARGS = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);

interface Target {
  what: string;
  unit: string;
  /** True when the measured value meets it; absent for a figure shown to explain the others. */
  met?: (v: number) => boolean;
  goal: string;
}

const TARGETS: Record<string, Target> = {
  start: { what: 'server start (spawn to listening)', unit: 'ms', met: (v) => v < 2000, goal: '< 2,000 ms' },
  licenses: {
    what: 'license list (compliance), first request after start',
    unit: 'ms',
    met: (v) => v < 50,
    goal: '< 50 ms',
  },
  licensesWarm: { what: 'license list, median of 10 more', unit: 'ms', met: (v) => v < 50, goal: '< 50 ms' },
  firstPage: { what: 'instances, first page of 50', unit: 'ms', met: (v) => v < 50, goal: '< 50 ms' },
  page1000: { what: 'instances, page 1,000 (keyset cursor)', unit: 'ms', met: (v) => v < 50, goal: '< 50 ms' },
  events: { what: 'event log, first page of 50', unit: 'ms', met: (v) => v < 50, goal: '< 50 ms' },
  eventsDeep: { what: 'event log, a page half-way back (cursor)', unit: 'ms', met: (v) => v < 50, goal: '< 50 ms' },
  csvRate: { what: 'instances report as CSV', unit: 'rows/s', met: (v) => v >= 100_000, goal: '≥ 100,000 rows/s' },
  csvRss: { what: 'server peak RSS during the CSV report', unit: 'MB', met: (v) => v < 250, goal: '< 250 MB' },
  csvCpuRate: { what: 'CSV rows per second of server CPU (load-independent)', unit: 'rows/s', goal: '—' },
  idleRss: { what: 'server RSS before the report (what the peak adds to)', unit: 'MB', goal: '—' },
  csvHeap: { what: 'server peak V8 heap used during the CSV report', unit: 'MB', goal: '—' },
  authorize: { what: 'one authorization (sequential, median of 50)', unit: 'ms', met: (v) => v < 10, goal: 'flat' },
};

function startServer(dataDir: string): Promise<StartedProcess> {
  const args = [join(ROOT, 'packages/cli/bin/smartlic.js'), 'server', '--data', dataDir, '--port', '0'];
  const jobs = SILENT ? ['--job-start-delay', '86400'] : [];
  return startProcess([...SERVER_NODE_ARGS, ...args, '--log-level', 'warn', '--rate-limit', 'off', ...jobs]);
}

async function authorizeOnce(url: string, device: Device): Promise<number> {
  const body = authorizeBody(device, TAG);
  const started = performance.now();
  const res = await fetch(`${url}${DEVICE_ROUTES.authorize}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const text = await res.text();
  const ms = performance.now() - started;
  if (!res.ok || !text.includes('InCompliance')) throw new Error(`authorize: ${res.status} ${text.slice(0, 300)}`);
  return ms;
}

/**
 * Bulk-inserts `n` instances (one usage row each, counted into the VA's totals and reported
 * names as the server would) and `n` events into the stopped server's database.
 */
function seed(dbFile: string, vaId: string, accountId: string, tokenId: string, n: number): void {
  const db = new BetterSqlite3(dbFile);
  db.pragma('synchronous = OFF');
  const instance = db.prepare(`insert into instances (id, va_id, token_id, pid, sn, hostname, software_tag,
    public_key_spki, id_cert_pem, id_cert_serial, id_cert_expires_at, registered_at, last_contact_at, export_controlled,
    silent_counted)
    values (?, ?, ?, 'SCALE', ?, ?, 'regid.2026-01.org.smartlic.bench', 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE', ?, ?, ?, ?, ?, 0, ?)`);
  const usage = db.prepare(
    `insert into instance_usage (instance_id, tag, count, display_name) values (?, ?, 1, 'Scale Feature')`,
  );
  const event = db.prepare(
    `insert into events (id, at, account_id, va_id, actor, type, detail) values (?, ?, ?, ?, 'device', 'instance.registered', ?)`,
  );
  const base = Date.UTC(2026, 0, 1);
  const now = Date.now();
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB…seeded…\n-----END CERTIFICATE-----\n';
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const id = randomUUID();
      const sn = `S${String(i).padStart(8, '0')}`;
      const at = base + i * 10;
      const counted = SILENT && i < n - FRESHLY_SILENT ? 1 : 0;
      const contact = now - (i % 1000) - (SILENT ? 40 * 86_400_000 : 0);
      instance.run(id, vaId, tokenId, sn, `host-${i}`, pem, `${i}`, now + 365 * 86_400_000, at, contact, counted);
      usage.run(id, TAG);
      const eventId = `${at.toString(16).padStart(12, '0')}-000000-${id.slice(0, 12)}`;
      event.run(eventId, at, accountId, vaId, JSON.stringify({ instanceId: id, pid: 'SCALE', sn }));
    }
    db.prepare('update va_usage set in_use = in_use + ? where va_id = ? and tag = ?').run(n, vaId, TAG);
    if (SILENT) {
      db.prepare('insert into va_silent_usage (va_id, tag, in_use) values (?, ?, ?)').run(
        vaId,
        TAG,
        Math.max(0, n - FRESHLY_SILENT),
      );
    }
    db.prepare(
      `insert into va_reported_names (va_id, tag, display_name, instances) values (?, ?, 'Scale Feature', ?)
       on conflict (va_id, tag, display_name) do update set instances = instances + excluded.instances`,
    ).run(vaId, TAG, n);
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

/** The cursor the server gives after the instance at `index` of the seeded order. */
function instanceCursorAfter(index: number): string {
  const at = Date.UTC(2026, 0, 1) + index * 10;
  return Buffer.from(JSON.stringify([at, 'SCALE', `S${String(index).padStart(8, '0')}`])).toString('base64url');
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

async function getOk(url: string, key: string, path: string): Promise<string> {
  const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  const text = await res.text();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${text.slice(0, 300)}`);
  return text;
}

function rssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** The server's V8 heap in use, in MB, from its Prometheus metrics (0 if unreadable). */
async function heapUsedMb(url: string): Promise<number> {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const m = /^nodejs_heap_used_bytes (\d+(?:\.\d+)?)/m.exec(text);
    return m ? Number(m[1]) / 2 ** 20 : 0;
  } catch {
    return 0;
  }
}

/**
 * Streams the CSV report, counting rows; samples the server's RSS (from /proc, every 50 ms) and
 * its V8 heap (from /metrics, every 250 ms) meanwhile, and its CPU time over the report.
 */
async function csvReport(
  url: string,
  key: string,
  vaId: string,
  pid: number,
): Promise<{ rate: number; rows: number; peakMb: number; heapMb: number; rowsPerCpuSecond: number }> {
  let peakMb = rssMb(pid);
  let heapMb = 0;
  const sampler = setInterval(() => {
    peakMb = Math.max(peakMb, rssMb(pid));
  }, 50);
  let sampling = true;
  const heapSampler = (async () => {
    while (sampling) {
      heapMb = Math.max(heapMb, await heapUsedMb(url));
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  const cpuBefore = cpuSeconds(pid);
  const started = performance.now();
  let rows = -1; // the header
  try {
    const res = await fetch(`${url}/api/v1/virtual-accounts/${vaId}/reports/instances?format=csv`, {
      headers: { authorization: `Bearer ${key}` },
    });
    if (!res.ok || !res.body) throw new Error(`csv report: ${res.status}`);
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      for (let at = bytes.indexOf(10); at >= 0; at = bytes.indexOf(10, at + 1)) rows++;
    }
  } finally {
    clearInterval(sampler);
    sampling = false;
    await heapSampler;
  }
  const seconds = (performance.now() - started) / 1000;
  const cpuUsed = cpuSeconds(pid) - cpuBefore;
  return { rate: rows / seconds, rows, peakMb, heapMb, rowsPerCpuSecond: cpuUsed > 0 ? rows / cpuUsed : 0 };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface SizeResult {
  n: number;
  seedSeconds: number;
  dbMb: number;
  values: Record<string, number[]>;
}

async function measureSize(n: number): Promise<SizeResult> {
  const dataDir = await mkdtemp(join(tmpdir(), 'smartlic-scale-'));
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  try {
    process.stdout.write(`\n${n.toLocaleString('en')} instances: setting up…\n`);
    server = await startServer(dataDir);
    const key = (await readFile(join(dataDir, 'admin-api-key'), 'utf8')).trim();
    const account = await api<{ id: string }>(server.url, key, '/api/v1/accounts', { name: 'Scale' });
    const va = await api<{ id: string }>(server.url, key, `/api/v1/accounts/${account.id}/virtual-accounts`, {
      name: 'Scale',
    });
    await api(server.url, key, `/api/v1/virtual-accounts/${va.id}/licenses`, { tag: TAG, count: n + 10 });
    const token = await api<{ id: string; token: string }>(
      server.url,
      key,
      `/api/v1/virtual-accounts/${va.id}/tokens`,
      {
        days: 1,
      },
    );
    const device = await registerDevice(server.url, token.token, 0, { pid: 'REAL', sn: 'R000001', force: false });
    await authorizeOnce(server.url, device);
    await stop(server.child);

    const dbFile = join(dataDir, 'smartlic.db');
    const seedStarted = performance.now();
    seed(dbFile, va.id, account.id, token.id, n);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    const dbMb = (await stat(dbFile)).size / 2 ** 20;
    process.stdout.write(`seeded in ${seedSeconds.toFixed(1)} s (database ${dbMb.toFixed(0)} MB)\n`);

    const values: Record<string, number[]> = Object.fromEntries(Object.keys(TARGETS).map((k) => [k, []]));
    const base = `/api/v1/virtual-accounts/${va.id}`;
    const deepEvent = Buffer.from(
      `${Date.UTC(2026, 0, 1) + Math.floor(n / 2) * 10}:${'f'.repeat(12)}`,
      'utf8',
    ).toString('base64url');
    for (let run = 0; run < RUNS; run++) {
      server = await startServer(dataDir);
      values.start!.push(server.ms);
      const { url } = server;
      values.licenses!.push(await timed(() => getOk(url, key, `${base}/licenses`)));
      const warm: number[] = [];
      for (let i = 0; i < 10; i++) warm.push(await timed(() => getOk(url, key, `${base}/licenses`)));
      values.licensesWarm!.push(median(warm));
      if (SILENT && !(await getOk(url, key, `${base}/licenses`)).includes(`"${n} in use by instances silent`)) {
        throw new Error(`the license list does not show ${n} in use by silent instances`);
      }
      values.firstPage!.push(await timed(() => getOk(url, key, `${base}/instances?limit=${PAGE}`)));
      // Page 1,000 (or the last full page of a smaller VA).
      const pageIndex = Math.min(999, Math.floor(n / PAGE) - 1);
      const cursor = instanceCursorAfter(PAGE * pageIndex - 1);
      const page = await timed(async () => {
        const body = JSON.parse(await getOk(url, key, `${base}/instances?limit=${PAGE}&cursor=${cursor}`)) as {
          items: Array<{ sn: string }>;
        };
        if (body.items[0]?.sn !== `S${String(PAGE * pageIndex).padStart(8, '0')}`)
          throw new Error('page 1,000 is wrong');
      });
      values.page1000!.push(page);
      values.events!.push(await timed(() => getOk(url, key, `${base}/events?limit=${PAGE}`)));
      values.eventsDeep!.push(await timed(() => getOk(url, key, `${base}/events?limit=${PAGE}&cursor=${deepEvent}`)));
      const auth: number[] = [];
      for (let i = 0; i < 50; i++) auth.push(await authorizeOnce(url, device));
      values.authorize!.push(median(auth));
      values.idleRss!.push(rssMb(server.child.pid!));
      const csv = await csvReport(url, key, va.id, server.child.pid!);
      if (csv.rows !== n + 1) throw new Error(`CSV report had ${csv.rows} rows, expected ${n + 1}`);
      values.csvRate!.push(csv.rate);
      values.csvRss!.push(csv.peakMb);
      values.csvCpuRate!.push(csv.rowsPerCpuSecond);
      values.csvHeap!.push(csv.heapMb);
      await stop(server.child);
      process.stdout.write(
        `run ${run + 1}: ${Object.entries(values)
          .map(([k, v]) => `${k} ${v.at(-1)!.toFixed(1)}`)
          .join(', ')}\n`,
      );
    }
    return { n, seedSeconds, dbMb, values };
  } finally {
    if (server) await stop(server.child);
    await rm(dataDir, { recursive: true, force: true });
  }
}

function fmt(v: number, unit: string): string {
  return unit === 'rows/s' ? Math.round(v).toLocaleString('en') : v.toFixed(unit === 'MB' ? 0 : 1);
}

async function main(): Promise<void> {
  const load = loadavg()[0]!.toFixed(1);
  const results: SizeResult[] = [];
  for (const n of SIZES) results.push(await measureSize(n));

  const header = `| measure | target | ${results.map((r) => `${r.n.toLocaleString('en')}: median (min–max)`).join(' | ')} | ${results.map((r) => `${r.n.toLocaleString('en')}`).join(' | ')} |`;
  const lines = [
    '## bench/scale.ts',
    '',
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; load average ${load} at the start, ${loadavg()[0]!.toFixed(1)} at the end.`,
    ...(Number(load) >= cpus().length ? ['The machine was busy with other work at the start: figures are noisy.'] : []),
    `One VA, one tag; each instance has one usage row; as many events as instances${SILENT ? `; every instance silent 40 days (all but the last ${FRESHLY_SILENT.toLocaleString('en')} counted by the silent-instance job)` : ''}. Seeding (not measured): ${results.map((r) => `${r.n.toLocaleString('en')} in ${r.seedSeconds.toFixed(0)} s, database ${r.dbMb.toFixed(0)} MB`).join('; ')}.`,
    `Median of ${RUNS} runs (a fresh server start each), spread min–max; times are client-side over HTTP on 127.0.0.1.`,
    '',
    header,
    `|---|---|${results.map(() => '---|').join('')}${results.map(() => '---|').join('')}`,
    ...Object.entries(TARGETS).map(([k, t]) => {
      const cells = results.map((r) => {
        const v = r.values[k]!;
        return `${fmt(median(v), t.unit)} ${t.unit} (${fmt(Math.min(...v), t.unit)}–${fmt(Math.max(...v), t.unit)})`;
      });
      const pass = results.map((r) => (t.met === undefined ? '—' : t.met(median(r.values[k]!)) ? 'PASS' : 'FAIL'));
      return `| ${t.what} | ${t.goal} | ${cells.join(' | ')} | ${pass.join(' | ')} |`;
    }),
    '',
  ];
  const auth = results.map((r) => median(r.values.authorize!));
  if (auth.length > 1) {
    lines.push(
      `Authorization from ${results[0]!.n.toLocaleString('en')} to ${results.at(-1)!.n.toLocaleString('en')} instances: ${auth[0]!.toFixed(2)} → ${auth.at(-1)!.toFixed(2)} ms (flat means within noise).`,
      '',
    );
  }
  process.stdout.write(`\n${lines.join('\n')}\n`);
  if (process.env.BENCH_WRITE !== '0') await writeResultsSection('## bench/scale.ts', lines.join('\n'));
}

await main();
