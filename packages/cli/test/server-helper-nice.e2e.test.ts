import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, startServerProcess, tempDir } from './harness.js';

/** The niceness of each thread of process `pid` (field 19 of its stat line), main thread first. */
function nicenessOf(pid: number): { main: number; helpers: number[] } {
  const nice = (tid: string) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after its closing parenthesis.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  };
  const tids = readdirSync(`/proc/${pid}/task`);
  return { main: nice(String(pid)), helpers: tids.filter((t) => t !== String(pid)).map(nice) };
}

describe('smartlic server --helper-nice', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  const dataDir = async (name: string) => {
    const dir = await tempDir();
    cleanups.push(dir.cleanup);
    return join(dir.path, name);
  };

  it('refuses a niceness out of range in one sentence', async () => {
    const data = await dataDir('refused');
    const high = await runCli(['server', '--data', data, '--port', '0', '--helper-nice', '20']);
    expect(high.code).not.toBe(0);
    expect(high.stderr.trim()).toBe('smartlic: --helper-nice must be at most 19 (the lowest priority there is).');
    const word = await runCli(['server', '--data', data, '--port', '0', '--helper-nice', 'low']);
    expect(word.stderr.trim()).toBe('smartlic: --helper-nice must be a whole number, not "low".');
  });

  it.skipIf(process.platform !== 'linux')('runs every thread but the event loop 10 nicer by default', async () => {
    const server = await startServerProcess(await dataDir('nice'));
    cleanups.push(server.stop);
    const { main, helpers } = nicenessOf(server.pid);
    expect(helpers.length).toBeGreaterThan(3);
    expect(helpers).toEqual(helpers.map(() => Math.min(19, main + 10)));
  });
});
