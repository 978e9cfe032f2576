// RUM report ingestion (Smart Licensing Using Policy, SPEC §9): signed usage reports per second
// into one server, on SQLite and on PostgreSQL, beside the authorization renewal figure of the
// same server in the same run.
//   npm run bench:ingest                       (writes its section of bench/RESULTS.md)
//   BENCH_WRITE=0 npm run bench:ingest         (print only)
//   BENCH_ENGINES=sqlite BENCH_SECONDS=3 …     (one engine, shorter)
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import {
  createCsr,
  generateKeyPair,
  type KeyPair,
  newNonce,
  POLICY_ROUTES,
  PROTOCOL_VERSION,
  type RumReport,
  signEnvelope,
  type TrustResponse,
  type UsageRequest,
} from '@smartlic/protocol';
import { serverArgs, setUpDevices, TAG } from './authority-load.js';
import { httpPost, type LoadResult, runLoad } from './load.js';
import { type BenchCluster, startBenchCluster } from './postgres-cluster.js';
import { writeResultsSection } from './results-file.js';
import { api, onInterrupt, startProcess, stop } from './server-process.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
/** RUM reports per online usage message (1–100). */
const REPORTS_PER_MESSAGE = Number(process.env.BENCH_REPORTS_PER_MESSAGE ?? 1);
const ENGINES = (process.env.BENCH_ENGINES ?? 'sqlite,postgres').split(',').filter(Boolean) as Engine[];
/** A generous guess of the request rate, to pre-sign enough messages for the run. */
const RATE_GUESS = Number(process.env.BENCH_RATE_GUESS ?? 1500);

type Engine = 'sqlite' | 'postgres';

interface PolicyDevice {
  keys: KeyPair;
  trust: TrustResponse;
  udi: { pid: string; sn: string };
}

/** Installs a trust code for one simulated policy device. */
async function trustDevice(url: string, token: string, i: number): Promise<PolicyDevice> {
  const keys = generateKeyPair('ES256');
  const udi = { pid: 'BENCH-P', sn: `P${String(i).padStart(6, '0')}` };
  const payload = {
    type: 'trust' as const,
    version: PROTOCOL_VERSION,
    timestamp: Date.now(),
    nonce: newNonce(),
    idToken: token,
    softwareTag: 'regid.2026-01.org.smartlic.bench',
    udi,
    csr: await createCsr(keys, `CN=${udi.pid}:${udi.sn}`),
    force: true,
    scope: 'local' as const,
  };
  const res = await fetch(`${url}${POLICY_ROUTES.trust}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(signEnvelope(payload, keys.privateKey, 'csr')),
  });
  if (!res.ok) throw new Error(`trust: ${res.status} ${await res.text()}`);
  return { keys, trust: ((await res.json()) as { payload: TrustResponse }).payload, udi };
}

/** A usage message of `device` with REPORTS_PER_MESSAGE fresh signed reports (new ids: each is recorded). */
function usageBody(device: PolicyDevice, n: number): Buffer {
  const now = Date.now();
  const reports = Array.from({ length: REPORTS_PER_MESSAGE }, (_, k) => {
    const report: RumReport = {
      type: 'rum-report',
      version: PROTOCOL_VERSION,
      reportId: randomUUID(),
      instanceId: device.trust.instanceId,
      idCertSerial: device.trust.idCertSerial,
      udi: device.udi,
      createdAt: now + n * REPORTS_PER_MESSAGE + k,
      usage: [
        {
          tag: TAG,
          licenseClass: 'unenforced-perpetual',
          measurements: [
            { start: now - 3_600_000, end: now, sampleIntervalMs: 900_000, samples: 5, count: 1 + ((n + k) % 3) },
          ],
        },
      ],
    };
    return signEnvelope(report, device.keys.privateKey, device.trust.idCertSerial);
  });
  const payload: UsageRequest = {
    type: 'usage',
    version: PROTOCOL_VERSION,
    timestamp: now,
    nonce: newNonce(),
    instanceId: device.trust.instanceId,
    idCertSerial: device.trust.idCertSerial,
    signingCertSerial: device.trust.signingCertSerial,
    reports,
  };
  return httpPost(
    POLICY_ROUTES.usage,
    JSON.stringify(signEnvelope(payload, device.keys.privateKey, device.trust.idCertSerial)),
  );
}

interface EngineRun {
  authorize: LoadResult;
  ingest: LoadResult;
}

async function measureEngine(engine: Engine, cluster?: BenchCluster): Promise<EngineRun> {
  const dataDir = await mkdtemp(join(tmpdir(), 'smartlic-bench-'));
  const unregister = onInterrupt(() => rm(dataDir, { recursive: true, force: true }));
  try {
    let db: string | undefined;
    if (engine === 'postgres') {
      if (!cluster) throw new Error('postgres needs a cluster');
      const name = `bench_ingest_${Date.now()}`;
      await cluster.createDatabase(name);
      db = cluster.url(name);
    }
    const server = await startProcess(serverArgs(dataDir, db));
    const port = Number(new URL(server.url).port);
    const perDevice = Math.ceil((RATE_GUESS * (SECONDS + 5) * 1.2) / DEVICES);
    process.stdout.write(`${engine}: registration-model devices and their renewals…\n`);
    const renewals = await setUpDevices(server.url, dataDir, DEVICES, perDevice);
    process.stdout.write(`${engine}: policy devices and their signed usage messages…\n`);
    const key = (await readFile(join(dataDir, 'admin-api-key'), 'utf8')).trim();
    const account = await api<{ id: string }>(server.url, key, '/api/v1/accounts', { name: 'Bench Policy' });
    const va = await api<{ id: string }>(server.url, key, `/api/v1/accounts/${account.id}/virtual-accounts`, {
      name: 'Policy',
    });
    await api(server.url, key, `/api/v1/virtual-accounts/${va.id}/licenses`, { tag: TAG, count: 3 * DEVICES });
    const token = await api<{ token: string }>(server.url, key, `/api/v1/virtual-accounts/${va.id}/tokens`, {
      days: 1,
    });
    const devices: PolicyDevice[] = [];
    for (let i = 0; i < DEVICES; i++) devices.push(await trustDevice(server.url, token.token, i));
    const usage = devices.map((d) => Array.from({ length: perDevice }, (_, n) => usageBody(d, n)));

    let warm = 0;
    await runLoad(port, DEVICES, 5_000, (c) => (warm++ < DEVICES * 20 ? renewals[c]?.pop() : undefined));
    process.stdout.write(`${engine}: ${SECONDS} s of authorization renewals…\n`);
    const authorize = await runLoad(port, DEVICES, SECONDS * 1000, (c) => renewals[c]?.pop());
    warm = 0;
    await runLoad(port, DEVICES, 5_000, (c) => (warm++ < DEVICES * 20 ? usage[c]?.pop() : undefined));
    process.stdout.write(`${engine}: ${SECONDS} s of usage reports…\n`);
    const ingest = await runLoad(port, DEVICES, SECONDS * 1000, (c) => usage[c]?.pop());
    await stop(server.child);
    for (const [name, r] of [
      ['authorize', authorize],
      ['ingest', ingest],
    ] as const) {
      if (r.errors > 0) process.stdout.write(`${engine} ${name} status counts: ${JSON.stringify(r.statusCounts)}\n`);
    }
    return { authorize, ingest };
  } finally {
    await rm(dataDir, { recursive: true, force: true });
    unregister();
  }
}

const load = loadavg()[0] ?? 0;
const cluster = ENGINES.includes('postgres') ? await startBenchCluster() : undefined;
const results = new Map<Engine, EngineRun>();
try {
  for (const engine of ENGINES) results.set(engine, await measureEngine(engine, cluster));
} finally {
  await cluster?.stop();
}
const heading = '## bench/ingest.ts';
const label: Record<Engine, string> = {
  sqlite: 'SQLite (WAL, every acknowledged commit synced, ADR 0002)',
  postgres: 'PostgreSQL (fsync on; renewals at READ COMMITTED, reports SERIALIZABLE)',
};
const lines = [
  heading,
  '',
  `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; load average ${load.toFixed(1)} at the start.`,
  `One server per engine; ${DEVICES} concurrent devices (one keep-alive connection each), 5 s warm-up, ${SECONDS} s measured, first authorization renewals (registration model), then usage messages of ${REPORTS_PER_MESSAGE} new signed RUM report(s) each (policy model), every report recorded.`,
  '',
  '| engine | authorization renewals per second | p99 ms | RUM reports per second | usage messages per second | p99 ms | errors |',
  '|---|---|---|---|---|---|---|',
  ...ENGINES.map((engine) => {
    const r = results.get(engine) as EngineRun;
    return `| ${label[engine]} | ${r.authorize.perSecond.toFixed(0)} | ${r.authorize.p99Ms.toFixed(1)} | ${(r.ingest.perSecond * REPORTS_PER_MESSAGE).toFixed(0)} | ${r.ingest.perSecond.toFixed(0)} | ${r.ingest.p99Ms.toFixed(1)} | ${r.authorize.errors + r.ingest.errors} |`;
  }),
  '',
];
process.stdout.write(`${lines.join('\n')}\n`);
if (process.env.BENCH_WRITE !== '0') await writeResultsSection(heading, lines.join('\n'));
