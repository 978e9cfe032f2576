import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { AgentStatus } from '@smartlic/agent';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AdminClient } from '../../server/src/test-support/admin-client.js';
import { describeEachEngine } from '../../server/src/test-support/postgres.js';
import { cliJson, runCli, type ServerProcess, serverDatabase, startServerProcess, tempDir } from './harness.js';

const TAG = 'regid.2017-03.com.cisco.advantagek9';

/**
 * A forwarder in front of the authority that, when told to, lets the next ID renewal reach
 * the authority (which commits it) and then cuts the connection instead of answering: the
 * answer is lost, exactly as when a device dies after sending.
 */
async function startForwarder(target: string) {
  const state = { dropNextRenewal: false, dropped: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const upstream = http.request(
        new URL(req.url ?? '/', target),
        { method: req.method, headers: { ...req.headers, host: new URL(target).host } },
        (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (c: Buffer) => body.push(c));
          answer.on('end', () => {
            if (state.dropNextRenewal && req.url?.endsWith('/device/renew-id')) {
              state.dropNextRenewal = false;
              state.dropped++;
              req.socket.destroy();
              return;
            }
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(Buffer.concat(body));
          });
        },
      );
      upstream.on('error', () => res.destroy());
      upstream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, state, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describeEachEngine('an ID renewal whose answer is lost', (engine) => {
  let database: Awaited<ReturnType<typeof serverDatabase>> | undefined;
  let dir: { path: string; cleanup: () => Promise<void> };
  let server: ServerProcess;
  let forwarder: Awaited<ReturnType<typeof startForwarder>>;
  const state = () => join(dir.path, 'device');
  const device = (args: string[]) => runCli(['device', '--state', state(), ...args]);
  const status = () => cliJson<AgentStatus>(['device', '--state', state(), 'show', 'license', 'status']);

  beforeAll(async () => {
    dir = await tempDir('smartlic-lost-renewal-');
    database = await serverDatabase(engine);
    server = await startServerProcess(join(dir.path, 'authority'), {}, 0, [], { db: database.db });
    forwarder = await startForwarder(server.url);
    // The set-up through the REST API: the CLI's account, VA, license and token commands have tests of their own.
    const api = new AdminClient(server.url, server.apiKey);
    const account = await api.createAccount('Lost Answers Inc');
    const va = await api.createVa(account.id, 'Lab');
    await api.addLicense(va.id, { tag: TAG, count: 5 });
    const { token } = await api.createToken(va.id);
    expect((await device(['init', '--pid', 'C9300-24UX', '--sn', 'LOST1'])).code).toBe(0);
    const destination = ['call-home', 'destination', forwarder.url, '--root', server.rootCaPath];
    expect((await device(destination)).code).toBe(0);
    expect((await device(['use', TAG, '2'])).code).toBe(0);
    expect((await device(['license', 'smart', 'register', 'idtoken', token])).code).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await forwarder?.close();
    await server?.stop();
    await database?.release();
    await dir?.cleanup();
  });

  it('leaves the device working with the certificate it kept, and the next renewal succeeds', async () => {
    const before = await status();
    expect(before.authorization.status).toBe('AUTHORIZED');
    const kept = before.registration.idCertSerial;
    expect(kept).toMatch(/^[0-9a-f]+$/);

    // The authority commits a new certificate; the device never hears of it.
    forwarder.state.dropNextRenewal = true;
    const lost = await device(['license', 'smart', 'renew', 'id']);
    expect(forwarder.state.dropped).toBe(1);
    expect(lost.code).not.toBe(0);
    expect((await status()).registration.idCertSerial).toBe(kept);

    // The certificate the device kept is still accepted…
    const renewed = await device(['license', 'smart', 'renew', 'auth']);
    expect(renewed.code, renewed.stderr).toBe(0);
    const afterAuth = await status();
    expect(afterAuth.registration.status).toBe('REGISTERED');
    expect(afterAuth.authorization.status).toBe('AUTHORIZED');

    // …and renewing again gives it a new one, which it then uses.
    const again = await device(['license', 'smart', 'renew', 'id']);
    expect(again.code, again.stderr).toBe(0);
    const fresh = (await status()).registration.idCertSerial;
    expect(fresh).not.toBe(kept);
    const withNew = await device(['license', 'smart', 'renew', 'auth']);
    expect(withNew.code, withNew.stderr).toBe(0);
    expect((await status()).authorization.status).toBe('AUTHORIZED');
  });
});
