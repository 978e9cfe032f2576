import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentStatus } from '@smartlic/agent';
import { DAY, HOUR, MINUTE } from '@smartlic/protocol';
import { type RunningServer, startServer } from '@smartlic/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../server/src/test-support/admin-client.js';
import { BIN, cliJson, runCli, type ServerProcess, startServerProcess, tempDir } from './harness.js';

const TAG = 'regid.2017-03.com.cisco.advantagek9';
const at = (offset: string) => ({ SMARTLIC_DEV_CLOCK: '1', SMARTLIC_CLOCK_OFFSET: offset });

describe('the device through the CLI with the simulated clock', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    dir = await tempDir('smartlic-clock-');
  });
  afterAll(() => dir?.cleanup());

  const device = (name: string, args: string[], env: Record<string, string> = {}) =>
    runCli(['device', '--state', join(dir.path, name), ...args], env);
  const status = (name: string, env: Record<string, string> = {}) =>
    cliJson<AgentStatus>(['device', '--state', join(dir.path, name), 'show', 'license', 'status'], env);

  it('shows an unregistered device in EVAL MODE with its remaining time, and EVAL EXPIRED after 90 days of use', async () => {
    expect((await device('eval', ['init', '--pid', 'C9300-24UX', '--sn', 'EVAL1'])).code).toBe(0);
    expect((await device('eval', ['use', TAG, '1'])).code).toBe(0);
    const now = await device('eval', ['show', 'license', 'status']);
    expect(now.stdout).toContain('Status: UNREGISTERED');
    expect(now.stdout).toMatch(
      /Status: EVAL MODE\n {2}Evaluation Period Remaining: 89 days, 23 hours, 59 minutes, \d+ seconds/,
    );

    const later = await device('eval', ['show', 'license', 'status'], at('45d'));
    expect(later.stdout).toMatch(/Evaluation Period Remaining: 44 days, 23 hours, 59 minutes, \d+ seconds/);

    const warned = await device('eval', ['run', '--once'], at('61d'));
    expect(warned.stdout).toMatch(
      /%SMART_LIC-4-EVAL_WILL_EXPIRE_WARNING: Evaluation period will expire in 28 days, 23 hours/,
    );
    const run = await device('eval', ['run', '--once'], at('90d'));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('%SMART_LIC-2-EVAL_EXPIRED: Evaluation period expired on');
    const expired = await status('eval', at('90d'));
    expect(expired.authorization.status).toBe('EVAL EXPIRED');
    expect(expired.usage).toEqual([expect.objectContaining({ tag: TAG, status: 'EVAL EXPIRED' })]);
    expect(expired.evaluation.remainingMs).toBe(0);

    // Setting the clock back does not bring the evaluation period back.
    const back = await device('eval', ['show', 'license', 'status']);
    expect(back.stdout).toContain('Status: EVAL EXPIRED on');
    expect(back.stdout).toMatch(/the system clock was set back; licensing time runs 8\d days/);
  });

  it('keeps what `show` saw of the clock: a clock set back after a look is noticed and refunds nothing', async () => {
    expect((await device('look', ['init', '--pid', 'C9300-24UX', '--sn', 'LOOK1'])).code).toBe(0);
    expect((await device('look', ['use', TAG, '1'])).code).toBe(0);
    // Only `show` runs while the clock is 30 days ahead…
    const ahead = await status('look', at('30d'));
    expect(ahead.evaluation.remainingMs).toBeLessThanOrEqual(60 * DAY);
    // …then the clock is set back to the real time: the 30 days are not given back.
    const back = await device('look', ['show', 'license', 'status']);
    expect(back.code).toBe(0);
    expect(back.stdout).toMatch(/Evaluation Period Remaining: 59 days, 23 hours, 5\d minutes/);
    expect(back.stdout).toMatch(/the system clock was set back; licensing time runs 29 days, 23 hours, 5\d minutes/);
    const log = await device('look', ['show', 'license', 'eventlog']);
    expect(log.stdout.match(/%SMART_LIC-4-CLOCK_BACKWARDS: The system clock was set back by 29 days/g)).toHaveLength(1);
    // Reported once: another look at the same clock raises nothing new.
    const again = await status('look');
    expect(again.evaluation.remainingMs).toBeLessThan(60 * DAY);
    const log2 = await device('look', ['show', 'license', 'eventlog']);
    expect(log2.stdout.match(/CLOCK_BACKWARDS/g)).toHaveLength(1);
  });

  describe('a registered device whose authority disappears', () => {
    let server: ServerProcess;
    beforeAll(async () => {
      server = await startServerProcess(join(dir.path, 'authority'));
    });
    afterAll(() => server?.stop());

    it('goes AUTHORIZATION EXPIRED 90 days after its last authorization, and unregistered when its ID certificate expires', async () => {
      // The set-up through the REST API: the CLI's account, VA, license and token commands have tests of their own.
      const api = new AdminClient(server.url, server.apiKey);
      const account = await api.createAccount('Clock Corp');
      const va = await api.createVa(account.id, 'Lab');
      await api.addLicense(va.id, { tag: TAG, count: 5 });
      const { token } = await api.createToken(va.id);
      expect((await device('gone', ['init', '--pid', 'C9300-24UX', '--sn', 'GONE1'])).code).toBe(0);
      expect((await device('gone', ['call-home', 'destination', server.url, '--root', server.rootCaPath])).code).toBe(
        0,
      );
      expect((await device('gone', ['use', TAG, '1'])).code).toBe(0);
      expect((await device('gone', ['license', 'smart', 'register', 'idtoken', token])).code).toBe(0);
      const registered = await status('gone');
      expect(registered.authorization.status).toBe('AUTHORIZED');
      const authorizedAt = Date.parse(registered.authorization.lastCommunicationAttempt?.at ?? '');
      const deadline = Date.parse(registered.authorization.communicationDeadline ?? '');
      // The deadline is the authority's time of the authorization + 90 days; the agent got the answer a moment later.
      expect(Math.abs(deadline - authorizedAt - 90 * DAY)).toBeLessThan(1000);
      const certExpires = Date.parse(registered.registration.registrationExpires ?? '');
      await server.stop();

      const renewal = await device('gone', ['run', '--once'], at('31d'));
      expect(renewal.stdout).toContain('%SMART_LIC-3-AUTH_RENEW_FAILED');
      const failing = await status('gone', at('31d'));
      expect(failing.authorization).toMatchObject({
        status: 'AUTHORIZED',
        lastCommunicationAttempt: { result: 'FAILED' },
        failureReason: 'Fail to send out Call Home HTTP message.',
      });
      expect(Date.parse(failing.authorization.communicationDeadline ?? '')).toBe(deadline);

      expect((await status('gone', at(`${90 * 24 * 60 - 10}m`))).authorization.status).toBe('AUTHORIZED');
      const lapse = await device('gone', ['run', '--once'], at(`${90 * 24 * 60 + 1}m`));
      expect(lapse.stdout).toContain('%SMART_LIC-3-AUTHORIZATION_EXPIRED');
      const expired = await status('gone', at(`${90 * 24 * 60 + 1}m`));
      expect(expired.authorization).toMatchObject({
        status: 'AUTHORIZATION EXPIRED',
        since: new Date(deadline).toISOString(),
      });
      expect(expired.registration.status).toBe('REGISTERED');

      expect((await status('gone', at(`${360 * 24 * 60 - 10}m`))).registration.status).toBe('REGISTERED');
      const lost = await device('gone', ['run', '--once'], at(`${360 * 24 * 60 + 1}m`));
      expect(lost.stdout).toContain('%SMART_LIC-3-ID_CERT_EXPIRED');
      const unregistered = await status('gone', at(`${360 * 24 * 60 + 1}m`));
      expect(unregistered.registration).toMatchObject({
        status: 'REGISTRATION EXPIRED',
        statusText: 'UNREGISTERED - REGISTRATION EXPIRED',
      });
      expect(unregistered.authorization.status).toBe('EVAL MODE');
      // What was left of the evaluation period when it registered, less the minute since the certificate expired.
      expect(unregistered.evaluation.remainingMs).toBeLessThan(
        90 * DAY - (Date.parse(unregistered.generatedAt) - certExpires) + MINUTE,
      );
      expect(unregistered.evaluation.remainingMs).toBeGreaterThan(90 * DAY - 2 * HOUR);
    });
  });
});

/** A clock that runs at real speed, then `speedUp(rate)` times faster from that moment on. */
class SwitchableClock {
  private base = Date.now();
  private realBase = Date.now();
  private rate = 1;
  now(): number {
    return this.base + Math.round((Date.now() - this.realBase) * this.rate);
  }
  speedUp(rate: number): void {
    this.base = this.now();
    this.realBase = Date.now();
    this.rate = rate;
  }
}

describe('smartlic device run', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let server: RunningServer;
  const clock = new SwitchableClock();
  let daemon: ChildProcess | undefined;

  beforeAll(async () => {
    dir = await tempDir('smartlic-run-');
    // The daemon's simulated clock starts when its process does, a little after this one speeds
    // up: the authority tolerates the gap (rate × start-up time) as clock offset.
    server = await startServer({
      dataDir: join(dir.path, 'authority'),
      port: 0,
      clock,
      logLevel: 'silent',
      clockToleranceMs: 120 * DAY,
    });
  });
  afterAll(async () => {
    daemon?.kill('SIGKILL');
    await server?.close();
    await dir?.cleanup();
  });

  it('keeps the timers going with SMARTLIC_CLOCK_RATE: a month passes in seconds and the authorization is renewed', async () => {
    const apiKey = (await readFile(server.adminKeyPath, 'utf8')).trim();
    const api = async <T>(path: string, body: unknown): Promise<T> => {
      const response = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return (await response.json()) as T;
    };
    const account = await api<{ id: string }>('/api/v1/accounts', { name: 'Run Corp' });
    const va = await api<{ id: string }>(`/api/v1/accounts/${account.id}/virtual-accounts`, { name: 'Lab' });
    await api(`/api/v1/virtual-accounts/${va.id}/licenses`, { tag: TAG, count: 5 });
    const { token } = await api<{ token: string }>(`/api/v1/virtual-accounts/${va.id}/tokens`, { days: 30 });
    const state = join(dir.path, 'device');
    const device = (args: string[]) => runCli(['device', '--state', state, ...args]);
    expect((await device(['init', '--pid', 'C9300-24UX', '--sn', 'RUN1'])).code).toBe(0);
    expect((await device(['call-home', 'destination', server.url, '--root', server.rootCaPath])).code).toBe(0);
    expect((await device(['use', TAG, '1'])).code).toBe(0);
    expect((await device(['license', 'smart', 'register', 'idtoken', token])).code).toBe(0);

    const rate = 1_000_000; // 30 days in 2.6 s
    clock.speedUp(rate);
    const child = spawn(process.execPath, [BIN, 'device', '--state', state, 'run'], {
      env: { ...process.env, SMARTLIC_DEV_CLOCK: '1', SMARTLIC_CLOCK_RATE: String(rate) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    daemon = child;
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 30_000;
    while (!out.includes('%SMART_LIC-6-AUTH_RENEW_SUCCESS') && Date.now() < deadline && child.exitCode === null) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toMatch(/Smart agent running on .* \(simulated clock, 1000000× real time\)/);
    expect(out).toMatch(
      /\d{4}-\d\d-\d\dT[\d:.]+Z %SMART_LIC-6-AUTH_RENEW_SUCCESS: Authorization renewal with the licensing authority was successful/,
    );
    expect(out).toMatch(/authorize: Authorization status: AUTHORIZED; next renewal/);
    expect(out).toContain('Smart agent stopped; its state is saved.');
    const after = await cliJson<AgentStatus>(['device', '--state', state, 'show', 'license', 'status'], {
      SMARTLIC_DEV_CLOCK: '1',
      SMARTLIC_CLOCK_OFFSET: `${Math.round((clock.now() - Date.now()) / 1000)}s`,
    });
    expect(after.authorization.status).toBe('AUTHORIZED');
    expect(Date.parse(after.authorization.lastCommunicationAttempt?.at ?? '') - Date.now()).toBeGreaterThan(29 * DAY);
  });
});
