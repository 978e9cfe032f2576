import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresUrl } from '../../server/src/test-support/postgres.js';
import { runCli, tempDir } from './harness.js';

describe.skipIf(!postgresUrl())('smartlic server --db postgres:// that cannot be used', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    dir = await tempDir();
  });
  afterAll(async () => {
    await dir?.cleanup();
  });
  const serve = (dbUrl: string) =>
    runCli(['server', '--data', join(dir.path, 'data'), '--port', '0', '--db', dbUrl, '--log-level', 'warn']);

  it('exits non-zero with one sentence when the database does not exist', async () => {
    const url = new URL(postgresUrl()!);
    url.pathname = '/smartlic_nowhere';
    const result = await serve(url.toString());
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim()).toMatch(
      /^smartlic: The PostgreSQL database "smartlic_nowhere" does not exist at 127\.0\.0\.1:\d+: create it \(createdb smartlic_nowhere\) or fix its name in --db\.$/,
    );
  });

  it('exits non-zero with one sentence, without the password, when the login is refused', async () => {
    const url = new URL(postgresUrl()!);
    url.password = 'letmein';
    const result = await serve(url.toString());
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/refused the login of user "postgres"/);
    expect(result.stderr).not.toContain('letmein');
  });

  it('exits non-zero with one sentence when nothing listens at the address', async () => {
    const result = await serve('postgres://smartlic:pw@127.0.0.1:1/smartlic');
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim()).toBe(
      'smartlic: Cannot connect to PostgreSQL at 127.0.0.1:1: the connection was refused (is PostgreSQL running there, and is that its address in --db?).',
    );
  });
});
