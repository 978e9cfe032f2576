// Satellite sync benchmark (issue 11): a satellite with 100,000 product instances does a full
// file sync — export, authority import, satellite import — and then a standard sync of 1,000
// changes over the network. Targets: < 10 s each way for the full sync, < 1 s for the standard.
//
//   npm run bench:sync                 (writes its section of bench/RESULTS.md)
//   BENCH_WRITE=0 npm run bench:sync   (print only)
//   BENCH_INSTANCES=20000 …            (a smaller fleet)
//   BENCH_CPU_PROF=DIR …               (CPU profiles of both server processes into DIR)
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { cpuSeconds } from './proc-cpu.js';
import { writeResultsSection } from './results-file.js';
import { api, onInterrupt, type StartedProcess, startProcess, stop } from './server-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 100_000);
const CHANGES = Number(process.env.BENCH_CHANGES ?? 1_000);
const TAG = 'regid.2026-01.org.smartlic.bench.Sync';

const CPU_PROF = process.env.BENCH_CPU_PROF;

function server(dataDir: string, extra: string[] = []): Promise<StartedProcess> {
  return startProcess([
    ...(CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`] : []),
    join(ROOT, 'packages/cli/bin/smartlic.js'),
    'server',
    '--data',
    dataDir,
    '--port',
    '0',
    '--log-level',
    'warn',
    '--rate-limit',
    'off',
    ...extra,
  ]);
}

const keyOf = async (dataDir: string) => (await readFile(join(dataDir, 'admin-api-key'), 'utf8')).trim();

/**
 * Runs `work`, measuring its wall time and the CPU time the servers spent on it (the latter does
 * not grow when the machine is busy with other work: it shows a step's own cost on a loaded machine).
 */
async function timed<T>(
  work: () => Promise<T>,
  servers: readonly StartedProcess[] = [],
): Promise<{ value: T; ms: number; cpuMs: number }> {
  const cpuBefore = servers.reduce((sum, s) => sum + cpuSeconds(s.child.pid) * 1000, 0);
  const started = performance.now();
  const value = await work();
  const ms = performance.now() - started;
  return { value, ms, cpuMs: servers.reduce((sum, s) => sum + cpuSeconds(s.child.pid) * 1000, 0) - cpuBefore };
}

/** An event id after every id the satellite recorded so far (the journal cursor sorts by it). */
function laterEventId(i: number): string {
  return `${(Date.now() + 1000).toString(16).padStart(12, '0')}-${i.toString(16).padStart(6, '0')}-${randomUUID().slice(0, 12)}`;
}

/** Puts `n` instances of `vaId` into the stopped satellite's database, with their usage and totals. */
function seedInstances(dbFile: string, vaId: string, n: number): string[] {
  const db = new BetterSqlite3(dbFile);
  db.pragma('synchronous = OFF');
  const instance = db.prepare(`insert into instances (id, va_id, token_id, pid, sn, hostname, software_tag,
    public_key_spki, id_cert_pem, id_cert_serial, id_cert_expires_at, registered_at, last_contact_at, export_controlled)
    values (?, ?, null, 'SYNC', ?, ?, 'regid.2026-01.org.smartlic.bench', 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE', 'seeded', ?, ?, ?, ?, 0)`);
  const usage = db.prepare(`insert into instance_usage (instance_id, tag, count, display_name) values (?, ?, 1, null)`);
  const ids: string[] = [];
  const base = Date.UTC(2026, 0, 1);
  // Contacted now: the satellite's silent-instance job must find nothing to do.
  const now = Date.now();
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const id = randomUUID();
      ids.push(id);
      instance.run(
        id,
        vaId,
        `S${String(i).padStart(8, '0')}`,
        `host-${i}`,
        `${i}`,
        now + 400 * 86_400_000,
        base + i,
        now,
      );
      usage.run(id, TAG);
    }
    db.prepare(`insert into va_usage (va_id, tag, in_use) values (?, ?, ?)
      on conflict (va_id, tag) do update set in_use = va_usage.in_use + excluded.in_use`).run(vaId, TAG, n);
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return ids;
}

/** `count` usage changes on the stopped satellite: each moves one instance to 2 and records its event. */
function seedChanges(dbFile: string, accountId: string, vaId: string, ids: readonly string[], count: number): void {
  const db = new BetterSqlite3(dbFile);
  const update = db.prepare('update instance_usage set count = 2 where instance_id = ? and tag = ?');
  const event = db.prepare(`insert into events (id, at, account_id, va_id, actor, type, detail)
    values (?, ?, ?, ?, ?, 'instance.usage-changed', ?)`);
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const id = ids[i] as string;
      update.run(id, TAG);
      event.run(laterEventId(i), Date.now(), accountId, vaId, `device:${id}`, JSON.stringify({ instanceId: id }));
    }
    db.prepare('update va_usage set in_use = in_use + ? where va_id = ? and tag = ?').run(count, vaId, TAG);
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'smartlic-bench-sync-'));
  const unregister = onInterrupt(() => rm(dir, { recursive: true, force: true }));
  const authorityDir = join(dir, 'authority');
  const satelliteDir = join(dir, 'satellite');
  const authority = await server(authorityDir);
  const aKey = await keyOf(authorityDir);
  let satellite = await server(satelliteDir, ['--mode', 'satellite', '--upstream', authority.url]);
  const sKey = await keyOf(satelliteDir);
  try {
    const account = await api<{ id: string }>(authority.url, aKey, '/api/v1/accounts', {
      name: 'Bench',
      domain: 'bench.example',
    });
    const va = await api<{ id: string }>(authority.url, aKey, `/api/v1/accounts/${account.id}/virtual-accounts`, {
      name: 'Site',
    });
    await api(authority.url, aKey, `/api/v1/virtual-accounts/${va.id}/licenses`, { tag: TAG, count: INSTANCES * 3 });
    const created = await api<{ token: string }>(authority.url, aKey, '/api/v1/satellites', {
      name: 'bench-sat',
      accountId: account.id,
      vaIds: [va.id],
    });
    const reg = await api<{ document: unknown }>(satellite.url, sKey, '/api/v1/sync/register', {
      token: created.token,
      file: true,
    });
    const regAnswer = await api<{ response: unknown }>(
      authority.url,
      aKey,
      '/api/v1/satellites/file-sync',
      reg.document,
    );
    await api(satellite.url, sKey, '/api/v1/sync/import', regAnswer.response);

    process.stdout.write(`seeding ${INSTANCES} instances on the satellite…\n`);
    await stop(satellite.child);
    const ids = seedInstances(join(satelliteDir, 'smartlic.db'), va.id, INSTANCES);
    satellite = await server(satelliteDir, ['--mode', 'satellite', '--upstream', authority.url]);

    // Full file sync: each step as the operator runs it, the file written and read in between.
    const requestFile = join(dir, 'license-sync-request-bench-sat.yml');
    const responseFile = join(dir, 'license-sync-response-bench-sat.yml');
    const exported = await timed(async () => {
      const answer = await api<{ document: unknown }>(satellite.url, sKey, '/api/v1/sync/export', { full: true });
      await writeFile(requestFile, JSON.stringify(answer.document));
    }, [satellite]);
    const imported = await timed(async () => {
      const doc = JSON.parse(await readFile(requestFile, 'utf8'));
      const answer = await api<{ response: unknown }>(authority.url, aKey, '/api/v1/satellites/file-sync', doc);
      await writeFile(responseFile, JSON.stringify(answer.response));
    }, [authority]);
    const applied = await timed(async () => {
      const doc = JSON.parse(await readFile(responseFile, 'utf8'));
      await api(satellite.url, sKey, '/api/v1/sync/import', doc);
    }, [satellite]);
    const listed = await api<Array<{ productInstances: number }>>(
      authority.url,
      aKey,
      `/api/v1/satellites?accountId=${account.id}`,
    );
    if (listed[0]?.productInstances !== INSTANCES) {
      throw new Error(`the authority shows ${listed[0]?.productInstances} instances, not ${INSTANCES}`);
    }
    const requestBytes = (await stat(requestFile)).size;
    const responseBytes = (await stat(responseFile)).size;

    process.stdout.write(`seeding ${CHANGES} changes…\n`);
    await stop(satellite.child);
    seedChanges(join(satelliteDir, 'smartlic.db'), account.id, va.id, ids, CHANGES);
    satellite = await server(satelliteDir, ['--mode', 'satellite', '--upstream', authority.url]);
    const standard = await timed(
      () => api<{ up: { instances: number; events: number } }>(satellite.url, sKey, '/api/v1/sync/now', {}),
      [satellite, authority],
    );
    if (standard.value.up.events !== CHANGES)
      throw new Error(`the standard sync sent ${standard.value.up.events} events`);
    const licenses = await api<Array<{ tag: string; inUse: number }>>(
      authority.url,
      aKey,
      `/api/v1/virtual-accounts/${va.id}/licenses`,
    );
    const inUse = licenses.find((l) => l.tag === TAG)?.inUse;
    if (inUse !== INSTANCES + CHANGES)
      throw new Error(`the authority shows ${inUse} in use, not ${INSTANCES + CHANGES}`);

    // "Up" is the satellite's export and the authority's import; "down" the authority's answer and
    // the satellite's import. The file-sync call does both halves at the authority: it counts in each.
    const upMs = exported.ms + imported.ms;
    const downMs = imported.ms + applied.ms;
    const verdict = (ms: number, limit: number) => (ms < limit ? 'PASS' : 'FAIL');
    const cpu = (ms: number) => (ms > 0 ? `${(ms / 1000).toFixed(2)} s` : '');
    const lines = [
      '## bench/sync.ts',
      '',
      `A satellite with ${INSTANCES.toLocaleString('en')} product instances (one usage row each), SQLite, real server processes`,
      `on ${cpus().length} cores (load ${loadavg()[0]?.toFixed(1)} at the end). Targets: < 10 s each way, < 1 s for the standard sync.`,
      'Server CPU: CPU time the server process of the step used (the satellite, the authority, both for the standard sync);',
      'it hardly grows on a busy machine, where the times do.',
      '',
      '| step | time | server CPU | file |',
      '| --- | --- | --- | --- |',
      `| full sync: satellite export (request file) | ${(exported.ms / 1000).toFixed(2)} s | ${cpu(exported.cpuMs)} | ${mb(requestBytes)} |`,
      `| full sync: authority import (file-sync, response file) | ${(imported.ms / 1000).toFixed(2)} s | ${cpu(imported.cpuMs)} | ${mb(responseBytes)} |`,
      `| full sync: satellite import | ${(applied.ms / 1000).toFixed(2)} s | ${cpu(applied.cpuMs)} | |`,
      `| full sync up total (export + authority import) | ${(upMs / 1000).toFixed(2)} s ${verdict(upMs, 10_000)} | | |`,
      `| full sync down total (authority import + satellite import) | ${(downMs / 1000).toFixed(2)} s ${verdict(downMs, 10_000)} | | |`,
      `| standard sync of ${CHANGES} changes (network, both ways) | ${(standard.ms / 1000).toFixed(2)} s ${verdict(standard.ms, 1_000)} | ${cpu(standard.cpuMs)} | |`,
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    if (process.env.BENCH_WRITE !== '0') await writeResultsSection('## bench/sync.ts', lines.join('\n'));
  } finally {
    await stop(satellite.child);
    await stop(authority.child);
    await rm(dir, { recursive: true, force: true });
    unregister();
  }
}

await main();
