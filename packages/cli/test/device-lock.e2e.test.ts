import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentStatus } from '@smartlic/agent';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliJson, runCli, tempDir } from './harness.js';

const TAG = 'regid.2017-03.com.cisco.advantagek9';

/** `smartlic device --state STATE run`, once it says it is running. */
async function startDaemon(state: string): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [BIN, 'device', '--state', state, 'run'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`device run did not start:\n${out}`)), 30_000);
    const check = () => {
      if (!out.includes('Smart agent running on')) return;
      clearTimeout(timer);
      resolve();
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`device run exited with ${code}:\n${out}`));
    });
  });
  return { child, output: () => out };
}

function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill(signal);
  });
}

describe('one writer per device state directory', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  const daemons: ChildProcess[] = [];
  beforeAll(async () => {
    dir = await tempDir('smartlic-lock-');
  });
  afterAll(async () => {
    for (const child of daemons) child.kill('SIGKILL');
    await dir?.cleanup();
  });

  it('refuses to change the state while `device run` holds it, shows it all the same, and lets changes in once it stopped', async () => {
    const state = join(dir.path, 'eval');
    const device = (args: string[]) => runCli(['device', '--state', state, ...args]);
    const status = () => cliJson<AgentStatus>(['device', '--state', state, 'show', 'license', 'status']);
    expect((await device(['init', '--pid', 'C9300-24UX', '--sn', 'LOCK1'])).code).toBe(0);
    expect((await device(['use', TAG, '1'])).code).toBe(0);

    const daemon = await startDaemon(state);
    daemons.push(daemon.child);
    const lock = JSON.parse(await readFile(join(state, 'state.lock'), 'utf8')) as { startedAt: string };
    const refusal =
      `smartlic: The device state in ${state} is in use by process ${daemon.child.pid} ` +
      `(smartlic device run, since ${lock.startedAt}); stop it first, or run this command again once it has ended.\n`;
    for (const args of [
      ['use', TAG, '2'],
      ['license', 'smart', 'renew', 'auth'],
      ['license', 'smart', 'register', 'idtoken', 'TOKEN'],
      ['call-home', 'destination', 'http://127.0.0.1:9'],
    ]) {
      const refused = await device(args);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toBe(refusal);
      expect(refused.stdout).toBe('');
    }

    // `show` reads alongside the daemon: the daemon's state, with the usage it had.
    const shown = await status();
    expect(shown.authorization.status).toBe('EVAL MODE');
    expect(shown.usage).toEqual([expect.objectContaining({ tag: TAG, count: 1 })]);
    for (const view of ['summary', 'usage', 'all', 'eventlog']) {
      const result = await device(['show', 'license', view]);
      expect(result.code).toBe(0);
      expect(result.stderr).toBe('');
    }
    expect((await device(['show', 'license', 'usage'])).stdout).toContain(TAG);

    expect(await stop(daemon.child, 'SIGTERM')).toBe(0);
    expect(daemon.output()).toContain('Smart agent stopped; its state is saved.');
    await expect(readFile(join(state, 'state.lock'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await device(['use', TAG, '2'])).code).toBe(0);
    expect((await status()).usage).toEqual([expect.objectContaining({ tag: TAG, count: 2 })]);
  });

  it('takes over the lock a killed `device run` left behind', async () => {
    const state = join(dir.path, 'killed');
    const device = (args: string[]) => runCli(['device', '--state', state, ...args]);
    expect((await device(['init', '--pid', 'C9300-24UX', '--sn', 'LOCK2'])).code).toBe(0);
    const daemon = await startDaemon(state);
    daemons.push(daemon.child);
    expect((await device(['use', TAG, '1'])).code).not.toBe(0);
    await stop(daemon.child, 'SIGKILL');
    expect(JSON.parse(await readFile(join(state, 'state.lock'), 'utf8'))).toMatchObject({ pid: daemon.child.pid });
    const used = await device(['use', TAG, '1']);
    expect(used).toMatchObject({ code: 0, stderr: '' });
    await expect(readFile(join(state, 'state.lock'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
