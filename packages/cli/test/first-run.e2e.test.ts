import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USAGE_HINT } from '../src/commands/admin/report-commands.js';
import { BIN, runCli, type ServerProcess, startServerProcess, tempDir } from './harness.js';

/**
 * What a newcomer following the README stumbled on: a second server on a taken port, a server
 * address without its scheme, validation messages said twice.
 */
describe('a first run without stumbles', () => {
  let server: ServerProcess;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const dir = await tempDir();
    cleanup = dir.cleanup;
    server = await startServerProcess(dir.path);
  });

  afterAll(async () => {
    await server?.stop();
    await cleanup?.();
  });

  it('says the port is taken and how to choose another, instead of EADDRINUSE', async () => {
    const other = await tempDir();
    try {
      const port = new URL(server.url).port;
      const out = await runCli(['server', '--data', other.path, '--port', port, '--log-level', 'silent']);
      expect(out.code).not.toBe(0);
      expect(out.stderr.trim()).toBe(
        `smartlic: Port ${port} on 127.0.0.1 is already in use (is another smartlic server running?): stop it, or choose another port with --port.`,
      );
    } finally {
      await other.cleanup();
    }
  });

  it('prints its start message on stdout and its JSON logs on stderr', async () => {
    const dir = await tempDir();
    const child = spawn(process.execPath, [BIN, 'server', '--data', dir.path, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`server did not start:\n${stdout}${stderr}`)), 30_000);
        const check = () => {
          if (stdout.includes('npx smartlic admin account create') && stderr.includes('smartlic server listening')) {
            clearTimeout(timer);
            resolve();
          }
        };
        child.stdout.on('data', check);
        child.stderr.on('data', check);
      });
      expect(stdout).toMatch(/^smartlic authority listening on http:\/\/127\.0\.0\.1:\d+\n/);
      expect(stdout).toMatch(/\nPortal: http:\/\/127\.0\.0\.1:\d+\/\n/);
      expect(stdout).toContain(`Sign in as admin with the password in ${join(dir.path, 'admin-password')}\n`);
      expect(stdout).toContain(`Admin API key: ${join(dir.path, 'admin-api-key')} (created now; mode 0600)`);
      expect(stdout).not.toContain('{"level"');
      const logs = stderr
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { msg: string });
      expect(logs.map((l) => l.msg)).toContain('smartlic server listening');
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      await dir.cleanup();
    }
  });

  it('asks for the scheme when SMARTLIC_SERVER is host:port', async () => {
    const address = server.url.replace('http://', '');
    const out = await runCli(['admin', 'account', 'list'], {
      SMARTLIC_SERVER: address,
      SMARTLIC_API_KEY: server.apiKey,
    });
    expect(out.code).not.toBe(0);
    expect(out.stderr.trim()).toBe(
      `smartlic: SMARTLIC_SERVER "${address}" is not an http(s) URL: write it with its scheme, e.g. http://${address}.`,
    );
    const flag = await runCli(['admin', '--server', 'ftp://x', '--api-key', server.apiKey, 'account', 'list']);
    expect(flag.stderr).toMatch(/--server "ftp:\/\/x" is not an http\(s\) URL/);
  });

  it('refuses a flag where an option value belongs, instead of sending it as an id', async () => {
    const env = { SMARTLIC_SERVER: server.url, SMARTLIC_API_KEY: server.apiKey };
    const out = await runCli(['admin', 'va', 'create', 'Lab', '--account', '--json'], env);
    expect(out.code).not.toBe(0);
    expect(out.stderr.trim()).toBe('smartlic: --account needs a value, but was followed by the flag --json.');
    const accounts = await runCli(['admin', 'account', 'list', '--json'], env);
    expect(accounts.code).toBe(0);
  });

  it('says a validation failure once', async () => {
    const env = { SMARTLIC_SERVER: server.url, SMARTLIC_API_KEY: server.apiKey };
    const account = await runCli(
      ['admin', 'account', 'create', 'Stumble Corp', '--domain', 'stumble.example', '--json'],
      env,
    );
    const accountId = (JSON.parse(account.stdout) as { id: string }).id;
    const va = await runCli(['admin', 'va', 'create', 'Lab', '--account', accountId, '--json'], env);
    const vaId = (JSON.parse(va.stdout) as { id: string }).id;
    const out = await runCli(['admin', 'token', 'create', '--va', vaId, '--days', '900'], env);
    expect(out.code).not.toBe(0);
    const sentence = out.stderr.trim();
    expect(sentence).toMatch(/days/);
    // Each field message appears once, not again in parentheses.
    const message = /days: ([^;()]+)/.exec(sentence)?.[1];
    expect(message).toBeDefined();
    expect(sentence.split(message!).length - 1).toBe(1);
  });

  it('shows the Virtual Account a device was transferred to once it renews its authorization', async () => {
    const env = { SMARTLIC_SERVER: server.url, SMARTLIC_API_KEY: server.apiKey };
    const json = async <T>(args: string[]): Promise<T> => {
      const out = await runCli([...args, '--json'], env);
      expect(out.stderr).toBe('');
      return JSON.parse(out.stdout) as T;
    };
    const account = await json<{ id: string }>(['admin', 'account', 'create', 'Move Corp', '--domain', 'move.example']);
    const lab = await json<{ id: string }>(['admin', 'va', 'create', 'Lab', '--account', account.id]);
    const prod = await json<{ id: string }>(['admin', 'va', 'create', 'Production', '--account', account.id]);
    const token = await json<{ token: string }>(['admin', 'token', 'create', '--va', lab.id]);
    const state = await tempDir();
    try {
      const device = (args: string[]) => runCli(['device', '--state', state.path, ...args]);
      expect((await device(['init', '--pid', 'C9300-24UX', '--sn', 'MOVE1'])).code).toBe(0);
      expect((await device(['call-home', 'destination', server.url, '--root', server.rootCaPath])).code).toBe(0);
      expect((await device(['license', 'smart', 'register', 'idtoken', token.token])).code).toBe(0);
      expect((await device(['use', 'regid.2026-01.com.example.M', '1'])).code).toBe(0);
      type Status = { registration: { virtualAccount: string } };
      const before = JSON.parse((await device(['show', 'license', 'status', '--json'])).stdout) as Status;
      expect(before.registration.virtualAccount).toBe('Lab');
      const [instance] = await json<Array<{ id: string }>>(['admin', 'instance', 'list', '--va', lab.id]);
      expect((await runCli(['admin', 'instance', 'transfer', instance!.id, '--to', prod.id], env)).code).toBe(0);
      expect((await device(['license', 'smart', 'renew', 'auth'])).code).toBe(0);
      const after = JSON.parse((await device(['show', 'license', 'status', '--json'])).stdout) as Status;
      expect(after.registration.virtualAccount).toBe('Production');
      expect((await device(['show', 'license', 'status'])).stdout).toContain('Virtual Account: Production');
    } finally {
      await state.cleanup();
    }
  });

  it('says why the usage report is empty before the first daily snapshot, and how to take one', async () => {
    const env = { SMARTLIC_SERVER: server.url, SMARTLIC_API_KEY: server.apiKey };
    const account = await runCli(
      ['admin', 'account', 'create', 'Usage Corp', '--domain', 'usage.example', '--json'],
      env,
    );
    const accountId = (JSON.parse(account.stdout) as { id: string }).id;
    const va = await runCli(['admin', 'va', 'create', 'Lab', '--account', accountId, '--json'], env);
    const vaId = (JSON.parse(va.stdout) as { id: string }).id;
    await runCli(
      ['admin', 'license', 'add', '--va', vaId, '--tag', 'regid.2026-01.com.example.U', '--count', '5'],
      env,
    );
    const before = await runCli(['admin', 'report', 'usage', '--va', vaId, '--json'], env);
    expect(before.code).toBe(0);
    expect(JSON.parse(before.stdout)).toEqual([]);
    expect(before.stderr.trim()).toBe(USAGE_HINT);
    expect((await runCli(['admin', 'job', 'run'], env)).code).toBe(0);
    const after = await runCli(['admin', 'report', 'usage', '--va', vaId, '--json'], env);
    expect(JSON.parse(after.stdout)).toHaveLength(1);
    expect(after.stderr).toBe('');
  });
});
