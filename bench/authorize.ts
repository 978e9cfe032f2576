import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type AuthorizeRequest,
  canonicalBytes,
  createCsr,
  DEVICE_ROUTES,
  generateKeyPair,
  type KeyPair,
  newNonce,
  PROTOCOL_VERSION,
  type RegisterResponse,
  signBytes,
  signEnvelope,
  verifyBytes,
} from '@smartlic/protocol';
import { httpPost, type LoadResult, runLoad } from './load.js';
import { writeResultsSection } from './results-file.js';
import { api, startProcess, stop } from './server-process.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
/** Extra node flags for the server process only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it. */
const SERVER_NODE_ARGS = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TAG = 'regid.2026-01.com.example.bench';

interface Device {
  keys: KeyPair;
  registration: RegisterResponse;
}

async function registerDevice(url: string, token: string, i: number): Promise<Device> {
  const keys = generateKeyPair('ES256');
  const payload = {
    type: 'register' as const,
    version: PROTOCOL_VERSION,
    timestamp: Date.now(),
    nonce: newNonce(),
    idToken: token,
    softwareTag: 'regid.2026-01.org.smartlic.bench',
    udi: { pid: 'BENCH', sn: `B${String(i).padStart(6, '0')}` },
    csr: await createCsr(keys, `CN=BENCH:B${i}`),
    force: true,
  };
  const res = await fetch(`${url}${DEVICE_ROUTES.register}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(signEnvelope(payload, keys.privateKey, 'csr')),
  });
  if (!res.ok) throw new Error(`register: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { payload: RegisterResponse };
  return { keys, registration: body.payload };
}

function authorizeRequests(device: Device, count: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const payload: AuthorizeRequest = {
      type: 'authorize',
      version: PROTOCOL_VERSION,
      timestamp: Date.now(),
      nonce: newNonce(),
      instanceId: device.registration.instanceId,
      idCertSerial: device.registration.idCertSerial,
      signingCertSerial: device.registration.signingCertSerial,
      entitlements: [{ tag: TAG, count: 1 }],
    };
    out.push(
      httpPost(
        DEVICE_ROUTES.authorize,
        JSON.stringify(signEnvelope(payload, device.keys.privateKey, device.registration.idCertSerial)),
      ),
    );
  }
  return out;
}

function cryptoCeiling(seconds: number): number {
  const device = generateKeyPair('ES256');
  const server = generateKeyPair('ES256');
  const request = canonicalBytes({ type: 'authorize', nonce: newNonce(), entitlements: [{ tag: TAG, count: 1 }] });
  const response = canonicalBytes({
    type: 'authorize-response',
    status: 'InCompliance',
    entitlements: [{ tag: TAG, requested: 1 }],
  });
  const signature = signBytes(request, device.privateKey, 'ES256');
  const end = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) {
      if (!verifyBytes(request, signature, device.publicKey, 'ES256')) throw new Error('verify failed');
      signBytes(response, server.privateKey, 'ES256');
    }
    n += 100;
  }
  return n / seconds;
}

function row(name: string, r: LoadResult): string {
  return `| ${name} | ${r.requests} | ${r.perSecond.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.errors} |`;
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'smartlic-bench-'));
  try {
    process.stdout.write(`crypto ceiling: ${SECONDS} s on one core…\n`);
    const ceiling = cryptoCeiling(Math.min(SECONDS, 5));

    process.stdout.write('echo baseline…\n');
    const echo = await startProcess([join(ROOT, 'bench/dist/echo-server.js')]);
    const echoPort = Number(new URL(echo.url).port);
    const sample = httpPost(
      '/echo',
      JSON.stringify({
        payload: { type: 'authorize', nonce: newNonce(), pad: 'x'.repeat(500) },
        signature: { alg: 'ES256', value: 'x'.repeat(86) },
      }),
    );
    const echoResult = await runLoad(echoPort, DEVICES, SECONDS * 1000, () => sample);
    await stop(echo.child);

    process.stdout.write('authority: setting up devices…\n');
    const server = await startProcess([
      ...SERVER_NODE_ARGS,
      join(ROOT, 'packages/cli/bin/smartlic.js'),
      'server',
      '--data',
      dataDir,
      '--port',
      '0',
      '--log-level',
      'warn',
      // Each simulated device renews dozens of times a second, which no real one does: the
      // per-instance limit is raised out of the way, but its counting stays in the measurement.
      '--rate-limit-device',
      '10000000',
    ]);
    const key = (await readFile(join(dataDir, 'admin-api-key'), 'utf8')).trim();
    const account = await api<{ id: string }>(server.url, key, '/api/v1/accounts', { name: 'Bench' });
    const va = await api<{ id: string }>(server.url, key, `/api/v1/accounts/${account.id}/virtual-accounts`, {
      name: 'Bench',
    });
    await api(server.url, key, `/api/v1/virtual-accounts/${va.id}/licenses`, { tag: TAG, count: DEVICES });
    const token = await api<{ token: string }>(server.url, key, `/api/v1/virtual-accounts/${va.id}/tokens`, {
      days: 1,
    });
    const devices: Device[] = [];
    for (let i = 0; i < DEVICES; i++) devices.push(await registerDevice(server.url, token.token, i));
    const perDevice = Math.ceil((ceiling * SECONDS * 1.2) / DEVICES);
    process.stdout.write(`authority: pre-signing ${perDevice * DEVICES} requests…\n`);
    const queues = devices.map((d) => authorizeRequests(d, perDevice));
    const serverPort = Number(new URL(server.url).port);
    // Warm-up (JIT, caches), then the measured run.
    let warmups = 0;
    await runLoad(serverPort, DEVICES, 5_000, (c) => (warmups++ < DEVICES * 20 ? queues[c]?.pop() : undefined));
    process.stdout.write(`authority: ${SECONDS} s at ${DEVICES} concurrent devices…\n`);
    const auth = await runLoad(serverPort, DEVICES, SECONDS * 1000, (c) => queues[c]?.pop());
    await stop(server.child);

    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    const lines = [
      '## bench/authorize.ts',
      '',
      `Machine: ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`,
      `${DEVICES} concurrent devices (one keep-alive connection each), ${SECONDS} s per run; server on SQLite WAL with synchronous=FULL.`,
      '',
      '| run | requests | per second | p50 ms | p99 ms | errors |',
      '|---|---|---|---|---|---|',
      row('fastify echo route (baseline)', echoResult),
      row('authorization renewal', auth),
      `| crypto ceiling: 1 ES256 verify + 1 ES256 sign, one core | | ${ceiling.toFixed(0)} | | | |`,
      '',
      `Authorization rate: **${((100 * auth.perSecond) / ceiling).toFixed(1)}% of the crypto ceiling**, ${((100 * auth.perSecond) / echoResult.perSecond).toFixed(1)}% of the echo route; p99 ${auth.p99Ms.toFixed(1)} ms.`,
      `Target: ≥ 40% of the crypto ceiling with durable writes and p99 < 50 ms — ${auth.perSecond >= 0.4 * ceiling && auth.p99Ms < 50 && auth.errors === 0 ? 'met' : 'NOT met'}.`,
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    if (process.env.BENCH_WRITE !== '0') await writeResultsSection('## bench/authorize.ts', `${lines.join('\n')}`);
    if (auth.errors > 0) process.stdout.write(`status counts: ${JSON.stringify(auth.statusCounts)}\n`);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
