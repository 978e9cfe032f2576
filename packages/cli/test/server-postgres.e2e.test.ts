import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresUrl } from '../../server/src/test-support/postgres.js';
import { runCli, startServerProcess, tempDir } from './harness.js';

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

describe('smartlic server --db-pool-size', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    dir = await tempDir();
  });
  afterAll(async () => {
    await dir?.cleanup();
  });
  const serve = (...args: string[]) =>
    runCli(['server', '--data', join(dir.path, 'data'), '--port', '0', '--log-level', 'warn', ...args]);

  it('refuses a size that is not a whole number of at least 1, or above 1000', async () => {
    for (const [size, message] of [
      ['0', '--db-pool-size must be at least 1.'],
      ['two', '--db-pool-size must be a whole number, not "two".'],
    ] as const) {
      const result = await serve('--db', 'postgres://u:p@127.0.0.1:1/db', '--db-pool-size', size);
      expect(result.code).not.toBe(0);
      expect(result.stderr.trim()).toBe(`smartlic: ${message}`);
    }
    const big = await serve('--db', 'postgres://u:p@127.0.0.1:1/db', '--db-pool-size', '1001');
    expect(big.code).not.toBe(0);
    expect(big.stderr).toMatch(/dbPoolSize: must be at most 1000/);
  });

  it('refuses a pool size for SQLite', async () => {
    const result = await serve('--db-pool-size', '4');
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim()).toBe(
      'smartlic: A database pool size applies to PostgreSQL only (--db postgres://…): SQLite uses one connection in the server process.',
    );
  });

  it.skipIf(!postgresUrl())('keeps at most that many connections to PostgreSQL under concurrent requests', async () => {
    const database = await createTestDatabase();
    const server = await startServerProcess(join(dir.path, 'pooled'), {}, 0, [
      '--db',
      database.url,
      '--db-pool-size',
      '2',
      '--rate-limit',
      'off',
    ]);
    const admin = new pg.Client({ connectionString: postgresUrl() });
    await admin.connect();
    try {
      const calls = Array.from({ length: 40 }, (_, i) =>
        i % 2 === 0
          ? fetch(`${server.url}/api/v1/accounts`, {
              method: 'POST',
              headers: { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' },
              body: JSON.stringify({ name: `Account ${i}` }),
            })
          : fetch(`${server.url}/api/v1/accounts`, { headers: { authorization: `Bearer ${server.apiKey}` } }),
      );
      const answers = await Promise.all(calls);
      // The pool keeps its connections open for a while after use: what it opened is still there.
      const name = new URL(database.url).pathname.slice(1);
      const { rows } = await admin.query<{ n: number }>(
        "select count(*)::int as n from pg_stat_activity where datname = $1 and application_name = 'smartlic'",
        [name],
      );
      expect(answers.map((a) => a.status).filter((s) => s >= 300)).toEqual([]);
      expect(rows[0]!.n).toBeGreaterThan(0);
      expect(rows[0]!.n).toBeLessThanOrEqual(2);
      const list = (await (
        await fetch(`${server.url}/api/v1/accounts`, { headers: { authorization: `Bearer ${server.apiKey}` } })
      ).json()) as unknown[];
      expect(list).toHaveLength(20);
    } finally {
      await admin.end();
      await server.stop();
      await database.drop();
    }
  });
});
