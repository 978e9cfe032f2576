import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, inject } from 'vitest';
import type { Engine } from '../storage/database.js';

/** Where a developer may point the tests at a PostgreSQL of their own (a superuser URL). */
export const POSTGRES_URL_ENV = 'SMARTLIC_TEST_POSTGRES_URL';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the PostgreSQL cluster of this test run; '' when there is none. */
    postgresUrl: string;
  }
}

/** The superuser URL of this run's PostgreSQL, or undefined when the run has none. */
export function postgresUrl(): string | undefined {
  const url = process.env[POSTGRES_URL_ENV] || inject('postgresUrl');
  return url ? url : undefined;
}

/** Chooses the engine of a test harness when the test names none: `SMARTLIC_TEST_ENGINE`, default sqlite. */
export const TEST_ENGINE_ENV = 'SMARTLIC_TEST_ENGINE';

/** The engine a harness uses when the test names none (`SMARTLIC_TEST_ENGINE=postgres` runs them all on PostgreSQL). */
export function defaultTestEngine(): Engine {
  const engine = process.env[TEST_ENGINE_ENV];
  if (engine === undefined || engine === '' || engine === 'sqlite') return 'sqlite';
  if (engine === 'postgres') return 'postgres';
  throw new Error(`${TEST_ENGINE_ENV} must be sqlite or postgres, not "${engine}".`);
}

/** The engines this run tests: SQLite always, PostgreSQL when the run has one. */
export function testEngines(): Engine[] {
  return postgresUrl() ? ['sqlite', 'postgres'] : ['sqlite'];
}

/**
 * `describe` once per engine (`name [sqlite]`, `name [postgres]`); the PostgreSQL block is
 * skipped when the run has no PostgreSQL (globalSetup says so once, and fails under CI).
 */
export function describeEachEngine(name: string, body: (engine: Engine) => void): void {
  describe(`${name} [sqlite]`, () => body('sqlite'));
  describe.skipIf(!postgresUrl())(`${name} [postgres]`, () => body('postgres'));
}

/** A fresh, empty database of this run's cluster. */
export interface TestDatabase {
  url: string;
  /** Drops the database (closing any connection still open to it). */
  drop(): Promise<void>;
}

/** Creates a fresh database (`CREATE DATABASE … TEMPLATE template0`) in this run's cluster. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const admin = postgresUrl();
  if (!admin) throw new Error('This test run has no PostgreSQL (see the globalSetup message).');
  const name = `smartlic_${randomBytes(6).toString('hex')}`;
  await withAdmin(admin, (client) => client.query(`create database ${name} template template0`));
  const url = new URL(admin);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      await withAdmin(admin, (client) => client.query(`drop database if exists ${name} with (force)`));
    },
  };
}

/** A database lent to one test at a time; `release` empties it for the next test of the file. */
export interface LeasedDatabase {
  url: string;
  /** Empties every table (keeping the schema and its migration marks) and lends the database again. */
  release(): Promise<void>;
}

const free: string[] = [];

/**
 * A database for one test: one of this test file's databases that an earlier test released
 * (its tables emptied, its schema kept), else a fresh one. Creating a database and migrating
 * it costs about a second; emptying one a few tens of ms. Test files run in separate
 * workers, so they never share a database.
 */
export async function acquireTestDatabase(): Promise<LeasedDatabase> {
  const url = free.pop() ?? (await createTestDatabase()).url;
  let released = false;
  return {
    url,
    async release() {
      if (released) return;
      released = true;
      await emptyDatabase(url);
      free.push(url);
    },
  };
}

async function emptyDatabase(url: string): Promise<void> {
  await withAdmin(url, async (client) => {
    const { rows } = await client.query<{ name: string }>(
      `select quote_ident(tablename) as name from pg_tables
       where schemaname = 'public' and tablename not like 'kysely_migration%'`,
    );
    if (rows.length > 0) await client.query(`truncate ${rows.map((r) => r.name).join(', ')} cascade`);
  });
}

async function withAdmin<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
