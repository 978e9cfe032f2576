import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, type ServerProcess, startServerProcess, tempDir } from './harness.js';

const README = new URL('../../../README.md', import.meta.url);

/** The shell lines of the README's "A first tour" code block. */
async function tourScript(): Promise<string> {
  const text = await readFile(README, 'utf8');
  const section = text.slice(text.indexOf('## A first tour'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README.md has no "A first tour" sh block');
  return block;
}

/** Runs `script` with bash (-e, pipefail) in `cwd`; resolves with its exit code and output. */
function bash(script: string, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-e', '-o', 'pipefail', '-c', script],
      { cwd, env: { ...process.env, SMARTLIC_SERVER: '', SMARTLIC_API_KEY: '' }, timeout: 120_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

/**
 * The README's tour, as a newcomer runs it against the server of `npm start` (whose data directory
 * is ./data), run twice in a row: both runs succeed. Only the server's address and `npx smartlic`
 * (the built CLI) are substituted.
 */
describe('the README tour', () => {
  let server: ServerProcess;
  let dir: { path: string; cleanup: () => Promise<void> };

  beforeAll(async () => {
    dir = await tempDir();
    server = await startServerProcess(join(dir.path, 'data'));
  });
  afterAll(async () => {
    await server?.stop();
    await dir?.cleanup();
  });

  it('runs twice in a row without an error', async () => {
    const block = await tourScript();
    expect(block).toContain('http://127.0.0.1:8470');
    const script = block
      .replaceAll('http://127.0.0.1:8470', server.url)
      .replaceAll('npx smartlic', `"${process.execPath}" "${BIN}"`);
    const first = await bash(script, dir.path);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Device initialised');
    // The registration-model device uses 4, the policy device 2 (its newest report, acknowledged by file).
    expect(first.stdout).toContain('Last ACK received: ');
    expect(first.stdout).toContain('ACK imported: 1 report(s) acknowledged.');
    expect(first.stdout).toMatch(/Feature A \(regid\.2026-01\.com\.example\.A\)\s+10\s+6\s+\+4/);

    const second = await bash(script, dir.path);
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('exists already');
    expect(second.stdout).toContain('Status: AUTHORIZED');
    // The same account and VA: the licenses of both runs are in one pool, the devices still use 4 and 2.
    expect(second.stdout).toMatch(/Feature A \(regid\.2026-01\.com\.example\.A\)\s+20\s+6\s+\+14/);
  });
});
