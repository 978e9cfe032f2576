import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '@smartlic/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from '../agent.js';
import { LOCK_FILE } from './state-lock.js';

/** The compiled lock holder (`npm run build`): opens a state to write, then holds it or exits. */
const HOLDER = fileURLToPath(new URL('../../dist/testing/lock-holder-main.js', import.meta.url));
const TAG = 'regid.2017-03.com.cisco.advantagek9';

/** A `lock-holder` process on `dir`; resolves once it printed whether it opened the state. */
async function holder(dir: string, mode: 'hold' | 'exit' = 'hold'): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, [HOLDER, dir, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.once('exit', (code) => (out.includes('\n') ? resolve(out.trim()) : reject(new Error(`exited ${code}`))));
  });
  return { child, line };
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));
}

/** The pid of a process that has ended. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await exited(child);
  return child.pid as number;
}

describe('the writer lock of a state directory', () => {
  let root: string;
  let dir: string;
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const options = () => ({ stateDir: dir, clock, processName: 'the test' });
  const lockPath = () => join(dir, LOCK_FILE);
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'smartlic-lock-'));
    dir = join(root, 'device');
    await (await Agent.init({ pid: 'C9300-24UX', sn: 'LOCK1' }, options())).close();
  });
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await rm(root, { recursive: true, force: true });
  });

  it('waits up to lockWaitMs for a short-lived holder, and not at all with 0', async () => {
    const first = await Agent.open(options());
    await expect(Agent.open({ ...options(), lockWaitMs: 0 })).rejects.toMatchObject({ code: 'STATE_LOCKED' });
    const started = Date.now();
    setTimeout(() => void first.close(), 300);
    const second = await Agent.open({ ...options(), lockWaitMs: 5000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(second.readOnly).toBe(false);
    await second.close();
  });

  it('refuses a second writer in the same process, changing nothing, and lets one in after close', async () => {
    const agent = await Agent.open(options());
    const before = await readFile(join(dir, 'state.json'), 'utf8');
    const refused = Agent.open(options());
    await expect(refused).rejects.toMatchObject({ code: 'STATE_LOCKED' });
    await expect(refused).rejects.toThrow(
      `The device state in ${dir} is in use by process ${process.pid} (the test, since `,
    );
    await expect(refused).rejects.toThrow(/stop it first, or run this command again once it has ended\.$/);
    await expect(Agent.init({ pid: 'C9300-24UX' }, options())).rejects.toMatchObject({
      code: 'ALREADY_INITIALISED',
    });
    expect(await readFile(join(dir, 'state.json'), 'utf8')).toBe(before);
    expect(JSON.parse(await readFile(lockPath(), 'utf8'))).toMatchObject({
      pid: process.pid,
      hostname: hostname(),
      command: 'the test',
    });

    await agent.close();
    await expect(readFile(lockPath())).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(agent.use(TAG, 1)).rejects.toThrow(/This agent was closed: it does not change the device state/);
    const next = await Agent.open(options());
    expect((await next.use(TAG, 1)).ok).toBe(true);
    await next.close();
  });

  it('holds the lock from init on', async () => {
    const fresh = { ...options(), stateDir: join(root, 'fresh') };
    const agent = await Agent.init({ pid: 'C9300-24UX' }, fresh);
    await expect(Agent.open(fresh)).rejects.toMatchObject({ code: 'STATE_LOCKED' });
    await agent.close();
    await (await Agent.open(fresh)).close();
  });

  it('refuses a writer while another process holds the lock, and takes the lock over once it was killed', async () => {
    const held = await holder(dir);
    children.push(held.child);
    expect(held.line).toBe('opened');
    const refused = Agent.open(options());
    await expect(refused).rejects.toMatchObject({ code: 'STATE_LOCKED' });
    await expect(refused).rejects.toThrow(`is in use by process ${held.child.pid} (lock-holder, since `);

    held.child.kill('SIGKILL');
    await exited(held.child);
    // SIGKILL leaves the lock behind, naming a process that is gone: it is stale.
    expect(JSON.parse(await readFile(lockPath(), 'utf8'))).toMatchObject({ pid: held.child.pid });
    const agent = await Agent.open(options());
    expect(JSON.parse(await readFile(lockPath(), 'utf8'))).toMatchObject({ pid: process.pid });
    // And the other way round: this process holds it, another is refused.
    const second = await holder(dir, 'exit');
    expect(second.line).toMatch(`refused STATE_LOCKED The device state in ${dir} is in use by process ${process.pid}`);
    await agent.close();
  });

  it('is released when a process exits without closing its agent', async () => {
    const { child, line } = await holder(dir, 'exit');
    await exited(child);
    expect(line).toBe('opened');
    await expect(readFile(lockPath())).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await readdir(dir)).filter((name) => name.includes('lock'))).toEqual([]);
  });

  it('is released by a process stopped with SIGTERM that closes its agent', async () => {
    const { child } = await holder(dir);
    child.kill('SIGTERM');
    await exited(child);
    await expect(readFile(lockPath())).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('lets exactly one of several processes starting together write', async () => {
    const started = await Promise.all(Array.from({ length: 6 }, () => holder(dir)));
    children.push(...started.map((s) => s.child));
    const lines = started.map((s) => s.line);
    expect(lines.filter((l) => l === 'opened')).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('refused STATE_LOCKED'))).toHaveLength(5);
  });

  it.each([
    ['a dead process', async () => JSON.stringify({ pid: await deadPid(), hostname: hostname(), command: 'x' })],
    [
      'this process, which does not hold it (a pid reused after a restart)',
      async () => JSON.stringify({ pid: process.pid }),
    ],
    ['nothing: empty', async () => ''],
    ['nothing: not JSON', async () => 'garbage\u0000\u0001'],
    ['nothing: JSON without a pid', async () => JSON.stringify({ hostname: hostname() })],
    ['nothing: a pid that is not a positive integer', async () => JSON.stringify({ pid: -1 })],
  ])('takes over a lock naming %s', async (_, content) => {
    await writeFile(lockPath(), await content());
    const agent = await Agent.open(options());
    expect(JSON.parse(await readFile(lockPath(), 'utf8'))).toMatchObject({ pid: process.pid, command: 'the test' });
    expect((await agent.use(TAG, 1)).ok).toBe(true);
    await agent.close();
  });

  it('keeps a lock that names a live process, even with nothing else in it', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60_000)'], { stdio: 'ignore' });
    children.push(child);
    await writeFile(lockPath(), JSON.stringify({ pid: child.pid }));
    await expect(Agent.open(options())).rejects.toThrow(
      `is in use by process ${child.pid} (an unknown command, since an unknown time)`,
    );
  });

  it('never takes over a lock from another host, and says how to release it', async () => {
    const lock = { pid: 1234, hostname: 'elsewhere.example', startedAt: '2026-01-01T00:00:00.000Z', command: 'run' };
    await writeFile(lockPath(), JSON.stringify(lock));
    await expect(Agent.open(options())).rejects.toThrow(
      `is in use by process 1234 on elsewhere.example (run, since 2026-01-01T00:00:00.000Z); if that process is gone, remove ${lockPath()}`,
    );
  });

  it('reads alongside a writer without writing anything, and refuses to change the state', async () => {
    const writer = await Agent.open(options());
    await writer.use(TAG, 1);
    const files = async () =>
      Promise.all((await readdir(dir)).sort().map(async (name) => [name, (await stat(join(dir, name))).mtimeMs]));
    const before = await files();
    const reader = await Agent.open({ ...options(), readOnly: true });
    expect(reader.readOnly).toBe(true);
    clock.advance(86_400_000);
    expect((await reader.readStatus()).usage).toEqual([expect.objectContaining({ tag: TAG, count: 1 })]);
    for (const write of [
      () => reader.use(TAG, 2),
      () => reader.runDue(),
      () => reader.renewAuthorization(),
      () => reader.setDestination('http://127.0.0.1:9'),
      () => reader.reservation({ type: 'enable' }),
    ]) {
      await expect(write()).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/read-only/) });
    }
    expect(await files()).toEqual(before);

    // It follows what the writer saves.
    await writer.use(TAG, 3);
    expect((await reader.readStatus()).usage).toEqual([expect.objectContaining({ tag: TAG, count: 3 })]);
    await writer.close();
  });
});
