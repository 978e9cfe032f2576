import { request } from 'node:http';
import { join } from 'node:path';
import { type Envelope, systemClock } from '@smartlic/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AdminClient } from '../../server/src/test-support/admin-client.js';
import { describeEachEngine } from '../../server/src/test-support/postgres.js';
import { SimDevice } from '../../server/src/test-support/sim-device.js';
import { type ServerProcess, serverDatabase, startServerProcess, tempDir } from './harness.js';

const TAG = 'regid.2026-01.com.example.A_1.0';

interface Outcome {
  status?: number;
  code?: string;
  error?: string;
}

/** One POST on its own connection (no keep-alive), so a refused connection is told apart from a reset. */
function post(url: string, body: unknown): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = request(
      url,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        res.on('end', () => {
          let code: string | undefined;
          try {
            code = (JSON.parse(text) as { code?: string }).code;
          } catch {
            code = 'not json';
          }
          resolve({ status: res.statusCode ?? 0, ...(code ? { code } : {}) });
        });
        res.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    req.end(JSON.stringify(body));
  });
}

describeEachEngine('graceful shutdown of `smartlic server` on SIGTERM', (engine) => {
  let database: Awaited<ReturnType<typeof serverDatabase>> | undefined;
  let dir: { path: string; cleanup: () => Promise<void> };
  let server: ServerProcess;

  beforeAll(async () => {
    dir = await tempDir();
    // This test floods on purpose.
    database = await serverDatabase(engine);
    server = await startServerProcess(join(dir.path, 'data'), {}, 0, ['--rate-limit', 'off'], { db: database.db });
  });
  afterAll(async () => {
    await server?.stop();
    await database?.release();
    await dir?.cleanup();
  });

  it('finishes what is in flight, answers the rest 503 SERVER_BUSY, never resets, and exits 0', async () => {
    const admin = new AdminClient(server.url, server.apiKey);
    const { vaId } = await admin.setupVa();
    await admin.addLicense(vaId, { tag: TAG, count: 1000 });
    const token = (await admin.createToken(vaId, { maxUses: 1000 })).token;
    const rootCaPem = await (await fetch(`${server.url}/api/v1/pki/root-ca`)).text();
    const ctx = { url: server.url, clock: systemClock, rootCaPem };
    const devices = await Promise.all(
      [1, 2, 3, 4].map(async (n) => {
        const device = new SimDevice(ctx, { pid: 'C9300', sn: `GS${n}` });
        expect((await device.register(token)).status).toBe(200);
        return device;
      }),
    );
    // Build the burst first: authorizations of registered devices and registrations of new ones.
    const burst: Array<{ path: string; body: Envelope<Record<string, unknown>> }> = [];
    for (let i = 0; i < 160; i++) {
      if (i % 4 === 3) {
        const fresh = new SimDevice(ctx, { pid: 'C9300', sn: `GN${i}` });
        burst.push({ path: '/api/v1/device/register', body: await fresh.registerEnvelope(token) });
      } else {
        const device = devices[i % devices.length]!;
        burst.push({
          path: '/api/v1/device/authorize',
          body: device.authorizeEnvelope([{ tag: TAG, count: 1 + (i % 3) }]),
        });
      }
    }

    const outcomes: Outcome[] = [];
    let next = 0;
    let signalled = false;
    let inFlightAtSignal = 0;
    let inFlight = 0;
    const worker = async () => {
      while (next < burst.length) {
        const item = burst[next++]!;
        inFlight++;
        const outcome = await post(`${server.url}${item.path}`, item.body);
        inFlight--;
        outcomes.push(outcome);
        if (!signalled && outcomes.length >= 30) {
          signalled = true;
          inFlightAtSignal = inFlight;
          process.kill(server.pid, 'SIGTERM');
        }
        // A client that backs off when told to: on 503 (Retry-After) or a closed port.
        if (outcome.status === 503 || outcome.error === 'ECONNREFUSED') return;
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: 8 }, worker));
    const code = await server.exited;
    const elapsed = Date.now() - started;

    expect(signalled).toBe(true);
    expect(inFlightAtSignal).toBeGreaterThan(0);
    expect(code).toBe(0);
    expect(elapsed).toBeLessThan(10_000);
    const answered = outcomes.filter((o) => o.status !== undefined);
    const failures = outcomes.filter(
      (o) =>
        !(o.status !== undefined && o.status >= 200 && o.status < 300) &&
        !(o.status === 503 && o.code === 'SERVER_BUSY') &&
        o.error !== 'ECONNREFUSED',
    );
    expect(failures, JSON.stringify(failures)).toEqual([]);
    expect(answered.filter((o) => o.status === 200).length).toBeGreaterThanOrEqual(30);
    expect(server.output()).toContain('Received SIGTERM; stopping.');
  }, 60_000);
});
