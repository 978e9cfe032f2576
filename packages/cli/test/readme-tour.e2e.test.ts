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
    expect(first.stdout).toMatch(/Feature A \(regid\.2026-01\.com\.example\.A\)\s+10\s+4\s+\+6/);

    const second = await bash(script, dir.path);
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('exists already');
    expect(second.stdout).toContain('Status: AUTHORIZED');
    // The same account and VA: the licenses of both runs are in one pool, the device still uses 4.
    expect(second.stdout).toMatch(/Feature A \(regid\.2026-01\.com\.example\.A\)\s+20\s+4\s+\+16/);
  });
});
