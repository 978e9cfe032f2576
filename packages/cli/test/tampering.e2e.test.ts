import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliJson, runCli, type ServerProcess, startServerProcess, tempDir } from './harness.js';

/** A man in the middle on 127.0.0.1 that forwards to the server and rewrites what `alter` changes in responses. */
function tamperingProxy(target: string, alter: (body: Record<string, unknown>) => void): Promise<Server> {
  const proxy = createServer((req, res) => {
    const upstream = request(`${target}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        let body = Buffer.concat(chunks).toString();
        try {
          const parsed = JSON.parse(body) as Record<string, unknown>;
          alter(parsed);
          body = JSON.stringify(parsed);
        } catch {
          // not JSON: pass it on untouched
        }
        res.writeHead(up.statusCode ?? 502, { 'content-type': 'application/json' });
        res.end(body);
      });
    });
    req.pipe(upstream);
  });
  return new Promise((resolve) => proxy.listen(0, '127.0.0.1', () => resolve(proxy)));
}

describe('a response altered in transit', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let server: ServerProcess;
  let proxy: Server;
  let token: string;
  let vaId: string;

  const admin = (args: string[]) => ['admin', '--server', server.url, '--api-key', server.apiKey, ...args];

  beforeAll(async () => {
    dir = await tempDir();
    server = await startServerProcess(join(dir.path, 'data'));
    const account = await cliJson<{ id: string }>(admin(['account', 'create', 'Victim']));
    vaId = (await cliJson<{ id: string }>(admin(['va', 'create', 'Default', '--account', account.id]))).id;
    token = (await cliJson<{ token: string }>(admin(['token', 'create', '--va', vaId]))).token;
    proxy = await tamperingProxy(server.url, (body) => {
      const payload = body.payload as Record<string, unknown> | undefined;
      if (payload && typeof payload.virtualAccount === 'object') {
        (payload.virtualAccount as { name: string }).name = 'Attacker VA';
      }
    });
  });

  afterAll(async () => {
    proxy?.close();
    await server?.stop();
    await dir?.cleanup();
  });

  it('is refused by the agent: "data and signature do not match", and the device stays unregistered', async () => {
    const state = join(dir.path, 'device');
    const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    expect((await runCli(['device', '--state', state, 'init', '--pid', 'C9500', '--sn', 'TAMPER1'])).code).toBe(0);
    expect(
      (await runCli(['device', '--state', state, 'call-home', 'destination', url, '--root', server.rootCaPath])).code,
    ).toBe(0);
    const out = await runCli(['device', '--state', state, 'license', 'smart', 'register', 'idtoken', token]);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/data and signature do not match/i);
    const status = await cliJson<{ registration: { status: string } }>([
      'device',
      '--state',
      state,
      'show',
      'license',
      'status',
    ]);
    expect(status.registration.status).not.toBe('REGISTERED');
    const text = await runCli(['device', '--state', state, 'show', 'license', 'status']);
    expect(text.stdout).toMatch(/Failure reason: Data and signature do not match/i);
  });
});
