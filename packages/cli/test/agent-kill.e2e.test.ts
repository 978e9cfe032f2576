import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, ALLOWED_STATES, LOCK_FILE } from '@smartlic/agent';
import { type RunningServer, startServer } from '@smartlic/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './harness.js';

/** A device process that registers and renews in a loop until it is killed. */
const WORKER = fileURLToPath(new URL('./fixtures/agent-churn.mjs', import.meta.url));
const TAG = 'regid.2017-03.com.cisco.advantagek9';
const DEVICES = 2;
const KILLS_PER_DEVICE = 26;

/**
 * Starts the worker on `stateDir` and SIGKILLs it at a random point: after 0–3 operations have
 * completed since it was ready, and a random 0–150 ms into the next one. Resolves with its output.
 */
function runAndKill(stateDir: string, token: string, random: () => number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, stateDir, token, TAG], { stdio: ['ignore', 'pipe', 'pipe'] });
    const opsBeforeKill = Math.floor(random() * 4);
    const delay = Math.floor(random() * 150);
    let out = '';
    let timer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const lines = out.split('\n');
      const ready = lines.indexOf('ready');
      const done = ready < 0 ? -1 : lines.length - 2 - ready;
      if (timer === undefined && done >= opsBeforeKill) timer = setTimeout(() => child.kill('SIGKILL'), delay);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(guard);
      clearTimeout(timer);
      if (signal === 'SIGKILL') resolve(out);
      else reject(new Error(`the device process ended on its own (${code}):\n${out}`));
    });
  });
}

describe('an agent killed at random points while it registers and renews', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let server: RunningServer;
  let token: string;

  beforeAll(async () => {
    dir = await tempDir('smartlic-kill-');
    // The workers register and renew in a tight loop, far beyond any real device's pace: no rate limits.
    server = await startServer({
      dataDir: join(dir.path, 'authority'),
      port: 0,
      logLevel: 'silent',
      rateLimits: 'off',
    });
    const apiKey = (await readFile(server.adminKeyPath, 'utf8')).trim();
    const api = async <T>(path: string, body: unknown): Promise<T> => {
      const response = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.ok).toBe(true);
      return (await response.json()) as T;
    };
    const account = await api<{ id: string }>('/api/v1/accounts', { name: 'Kill Corp' });
    const va = await api<{ id: string }>(`/api/v1/accounts/${account.id}/virtual-accounts`, { name: 'Lab' });
    await api(`/api/v1/virtual-accounts/${va.id}/licenses`, { tag: TAG, count: 100 });
    token = (await api<{ token: string }>(`/api/v1/virtual-accounts/${va.id}/tokens`, { days: 30 })).token;
  });

  afterAll(async () => {
    await server?.close();
    await dir?.cleanup();
  });

  it(`always leaves a state it resumes from (${DEVICES * KILLS_PER_DEVICE} kills)`, async () => {
    let seed = 0x5eed;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const logs: string[] = [];
    const device = async (n: number): Promise<void> => {
      const stateDir = join(dir.path, `device-${n}`);
      const agent = await Agent.init({ pid: 'C9300-24UX', sn: `KILL${n}` }, { stateDir });
      await agent.setDestination(server.url, { authorityRootPem: await readFile(server.rootCaPath, 'utf8') });
      await agent.close(); // releases the writer lock for the worker
      for (let kill = 0; kill < KILLS_PER_DEVICE; kill++) {
        logs.push(await runAndKill(stateDir, token, random));
        // The kill left the worker's writer lock behind, naming a process that is gone.
        expect(JSON.parse(await readFile(join(stateDir, LOCK_FILE), 'utf8'))).toMatchObject({ command: 'agent-churn' });
        // Whatever the moment of the kill, the state opens to write (the stale lock is taken
        // over), and shows a state of the table.
        const reopened = await Agent.open({ stateDir });
        const s = reopened.status();
        expect(ALLOWED_STATES[s.registration.status]).toContain(s.authorization.status);
        await reopened.close();
      }
      // And the device carries on: it completes a renewal (re-registering if a kill lost the
      // answer that carried its renewed certificate: the authority then refuses the old one).
      const agent2 = await Agent.open({ stateDir });
      await agent2.runDue();
      if (agent2.status().registration.status === 'REGISTERED') await agent2.use(TAG, 1);
      else await agent2.register(token);
      await agent2.use(TAG, 1);
      let renewal = await agent2.renewAuthorization();
      if (!renewal.ok) {
        expect(['NOT_REGISTERED', 'MISSING_SERIALS', 'UNKNOWN_INSTANCE']).toContain(renewal.code);
        expect((await agent2.register(token, { force: true })).ok).toBe(true);
        renewal = await agent2.renewAuthorization();
      }
      expect(renewal).toMatchObject({ action: 'authorize', ok: true });
      expect((await agent2.renewId()).ok).toBe(true);
      expect(agent2.status()).toMatchObject({
        registration: { status: 'REGISTERED' },
        authorization: { status: 'AUTHORIZED' },
      });
    };
    await Promise.all(Array.from({ length: DEVICES }, (_, n) => device(n)));
    const all = logs.join('');
    // The kills did land in the middle of registrations and renewals of both kinds.
    for (const op of ['register ok', 'renew-auth ok', 'renew-id ok', 'use ok']) expect(all).toContain(op);
    expect(logs).toHaveLength(DEVICES * KILLS_PER_DEVICE);
  }, 120_000);
});
