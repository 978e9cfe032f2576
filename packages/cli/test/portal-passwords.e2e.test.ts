import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, type CliResult, cliJson, runCli, type ServerProcess, startServerProcess, tempDir } from './harness.js';

/** Runs the CLI with `input` on stdin. */
function runWithStdin(args: string[], input: string, env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.once('exit', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input);
  });
}

async function signIn(url: string, email: string, password: string): Promise<number> {
  const response = await fetch(`${url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  await response.text();
  return response.status;
}

describe('portal passwords from the CLI (--password-stdin)', () => {
  let server: ServerProcess;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await tempDir();
    server = await startServerProcess(dir.path);
    env = { SMARTLIC_SERVER: server.url, SMARTLIC_API_KEY: server.apiKey };
  });
  afterAll(async () => {
    await server.stop();
    await dir.cleanup();
  });

  it('the owner signs in with the password of <data>/admin-password', async () => {
    const password = readFileSync(join(dir.path, 'admin-password'), 'utf8').trim();
    expect(await signIn(server.url, 'admin', password)).toBe(200);
    expect(await signIn(server.url, 'admin', `${password}x`)).toBe(401);
  });

  it('user create --password-stdin sets the portal password; set-password replaces it', async () => {
    const account = await cliJson<{ id: string }>(['admin', 'account', 'create', 'Acme'], env);
    const created = await runWithStdin(
      [
        'admin',
        'user',
        'create',
        'ops@acme.example',
        '--account',
        account.id,
        '--role',
        'viewer',
        '--password-stdin',
        '--json',
      ],
      'first portal password\n',
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    expect(Object.keys(JSON.parse(created.stdout))).toEqual(['id', 'apiKey']);
    expect(await signIn(server.url, 'ops@acme.example', 'first portal password')).toBe(200);

    const set = await runWithStdin(
      ['admin', 'user', 'set-password', 'ops@acme.example', '--password-stdin'],
      'second portal password\n',
      env,
    );
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('Portal password of ops@acme.example set');
    expect(await signIn(server.url, 'ops@acme.example', 'first portal password')).toBe(401);
    expect(await signIn(server.url, 'ops@acme.example', 'second portal password')).toBe(200);
  });

  it('refuses a short password and a password not given on stdin, each with one sentence', async () => {
    const short = await runWithStdin(['admin', 'user', 'set-password', 'admin', '--password-stdin'], 'short\n', env);
    expect(short.code).not.toBe(0);
    expect(short.stderr).toMatch(/password: must be at least 12 characters/);
    const noStdin = await runWithStdin(['admin', 'user', 'set-password', 'admin'], '', env);
    expect(noStdin.code).not.toBe(0);
    expect(noStdin.stderr.trim()).toBe(
      'smartlic: Give the password on stdin with --password-stdin (never as an argument).',
    );
  });

  it("set-password admin changes the owner's password", async () => {
    const set = await runWithStdin(
      ['admin', 'user', 'set-password', 'admin', '--password-stdin'],
      'a new owner password',
      env,
    );
    expect(set.code, set.stderr).toBe(0);
    expect(await signIn(server.url, 'admin', 'a new owner password')).toBe(200);
  });
});

describe('smartlic server --session-idle-minutes', () => {
  it('sets the idle timeout the portal is told, and refuses 0 with one sentence', async () => {
    const dir = await tempDir();
    try {
      const server = await startServerProcess(dir.path, {}, 0, ['--session-idle-minutes', '5']);
      try {
        const password = readFileSync(join(dir.path, 'admin-password'), 'utf8').trim();
        const response = await fetch(`${server.url}/api/v1/session`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'admin', password }),
        });
        expect(response.status).toBe(200);
        expect(((await response.json()) as { idleTimeoutSeconds: number }).idleTimeoutSeconds).toBe(300);
      } finally {
        await server.stop();
      }
      const refused = await runCli(['server', '--data', dir.path, '--port', '0', '--session-idle-minutes', '0']);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr.trim().split('\n')).toHaveLength(1);
      expect(refused.stderr).toMatch(/--session-idle-minutes/);
    } finally {
      await dir.cleanup();
    }
  });
});
