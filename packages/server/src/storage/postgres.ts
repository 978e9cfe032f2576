import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { OpenPostgresDatabase } from './database.js';
import { createPostgresDeviceStatements, NAMED_STATEMENTS } from './postgres-device-statements.js';
import {
  createPostgresRegistrationStatements,
  REGISTRATION_NAMED_STATEMENTS,
} from './postgres-registration-statements.js';
import type { Database } from './schema.js';

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/** The device path's statements sent by name: the authorization's and the registration's. */
const HOT_STATEMENTS: ReadonlyMap<string, string> = new Map([...NAMED_STATEMENTS, ...REGISTRATION_NAMED_STATEMENTS]);
/**
 * pg answers int8 (bigint columns, `count(*)`, `sum()` of integers) and numeric (`sum()` of
 * bigints) as strings. Every such value of ours is a count or a time in ms since the epoch, a
 * safe integer, so they come back as JS numbers, as they do from SQLite; an int8 beyond 2^53
 * fails loudly rather than lose precision.
 */
export const postgresTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID) return parseSafeInteger;
    if (oid === NUMERIC_OID) return (text: string) => Number(text);
    return pg.types.getTypeParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

function parseSafeInteger(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`int8 value ${text} is beyond JavaScript's safe integers`);
  return value;
}

/** Options of {@link openPostgresDatabase}. */
export interface PostgresOptions {
  /** Connections in the pool; default 10 (`DEFAULT_DB_POOL_SIZE`). */
  poolSize?: number;
  /** How long to wait for a connection, in ms; default 10 s. */
  connectTimeoutMs?: number;
}

/**
 * Connects to PostgreSQL (`postgres://user:pass@host:port/db`) through a `pg.Pool` and checks
 * that a connection can be had; fails with one sentence saying what is wrong (server not
 * reachable, login refused, no such database) and what to do.
 */
export async function openPostgresDatabase(url: string, options: PostgresOptions = {}): Promise<OpenPostgresDatabase> {
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: connectTimeoutMs,
    application_name: 'smartlic',
    types: postgresTypes,
  });
  // An idle connection that the database drops (restart, admin kill) must not crash the process:
  // the pool discards it and the next query opens a new one.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => nameHotStatements(client, HOT_STATEMENTS));
  try {
    const client = await pool.connect();
    client.release();
  } catch (cause) {
    await pool.end().catch(() => undefined);
    throw new Error(describeConnectError(cause, url, connectTimeoutMs), { cause });
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  let closed = false;
  return {
    engine: 'postgres',
    db,
    pool,
    deviceStatements: { ...createPostgresDeviceStatements(), ...createPostgresRegistrationStatements() },
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}

/**
 * Makes `client` send the statements of `names` (text → name) as named prepared statements:
 * Kysely passes a text and values to `client.query`, and pg prepares a named statement once per
 * connection, then only binds and executes it. Every other query goes through unchanged.
 */
export function nameHotStatements(client: pg.PoolClient, names: ReadonlyMap<string, string>): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  client.query = ((...args: unknown[]) => {
    const [text, values] = args;
    const name = typeof text === 'string' && args.length === 2 ? names.get(text) : undefined;
    return name ? query({ name, text, values }) : query(...args);
  }) as typeof client.query;
}

/** Why a connection to PostgreSQL failed, as one sentence an operator can act on. */
export function describeConnectError(cause: unknown, url: string, connectTimeoutMs: number): string {
  const target = describeTarget(url);
  const error = cause as { code?: string; message?: string };
  const detail = error.message ?? String(cause);
  switch (error.code) {
    case 'ECONNREFUSED':
      return `Cannot connect to PostgreSQL at ${target.address}: the connection was refused (is PostgreSQL running there, and is that its address in --db?).`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `Cannot connect to PostgreSQL: the host name "${target.host}" does not resolve; check the host in --db.`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `Cannot connect to PostgreSQL at ${target.address}: ${detail}; check the address in --db and the network.`;
    case '28P01':
    case '28000':
      return `PostgreSQL at ${target.address} refused the login of user "${target.user}" (${detail}): check the user name and password in --db.`;
    case '3D000':
      return `The PostgreSQL database "${target.database}" does not exist at ${target.address}: create it (createdb ${target.database}) or fix its name in --db.`;
  }
  if (/timeout/i.test(detail)) {
    return `Cannot connect to PostgreSQL at ${target.address}: no answer within ${connectTimeoutMs / 1000} s; check the address in --db and the network.`;
  }
  return `Cannot connect to PostgreSQL at ${target.address}: ${detail}.`;
}

function describeTarget(url: string): { address: string; host: string; user: string; database: string } {
  try {
    const u = new URL(url);
    const host = decodeURIComponent(u.hostname) || 'localhost';
    return {
      host,
      address: `${host}:${u.port || '5432'}`,
      user: decodeURIComponent(u.username) || '(default user)',
      database: decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username),
    };
  } catch {
    return { host: '?', address: '(unparsable URL)', user: '?', database: '?' };
  }
}
