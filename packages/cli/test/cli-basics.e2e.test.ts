import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from './harness.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('the smartlic command', () => {
  it('is linked into node_modules/.bin by npm ci and prints its help', async () => {
    expect(existsSync(`${ROOT}node_modules/.bin/smartlic`)).toBe(true);
    const out = await runCli(['--help']);
    expect(out.code).toBe(0);
    for (const word of ['server', 'admin', 'device']) expect(out.stdout).toContain(word);
  });

  it('says in one sentence when no API key is given', async () => {
    const out = await runCli(['admin', '--server', 'http://127.0.0.1:9', 'account', 'list'], { SMARTLIC_API_KEY: '' });
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/No API key given/);
  });

  it('says in one sentence when the server cannot be reached', async () => {
    const out = await runCli(['admin', '--server', 'http://127.0.0.1:9', '--api-key', 'k', 'account', 'list']);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/Cannot reach the server at http:\/\/127\.0\.0\.1:9/);
  });

  it('refuses a sync file that is not JSON in one sentence, before calling the server', async () => {
    const dir = await tempDir();
    const file = `${dir.path}/license-sync-response.yml`;
    await writeFile(file, 'not: [a sync file');
    const out = await runCli(['admin', '--server', 'http://127.0.0.1:9', '--api-key', 'k', 'sync', 'import', file]);
    await dir.cleanup();
    expect(out.code).toBe(1);
    expect(out.stderr.trim()).toBe(
      `smartlic: ${file} is not a smartlic synchronisation file: it is not valid JSON; nothing was changed.`,
    );
  });

  it('tells a device with no state to init first', async () => {
    const out = await runCli(['device', '--state', '/nonexistent/smartlic-device', 'show', 'license', 'status']);
    expect(out.code).not.toBe(0);
    // The agent's message is neutral; the CLI appends the command (error-hints.ts).
    expect(out.stderr.trim()).toBe(
      'smartlic: This device is not initialised. Run `smartlic device init --pid PID` first.',
    );
  });
});
