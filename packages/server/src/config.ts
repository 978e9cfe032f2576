import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Clock, DEFAULT_TIMERS, SmartlicError, systemClock } from '@smartlic/protocol';
import { z } from 'zod';
import { type HostResolver, systemResolver } from './features/webhooks/webhook-target.js';
import { DEFAULT_RATE_LIMITS, type RateLimits } from './http/rate-limits.js';
import { DEFAULT_JOB_START_DELAY_MS } from './jobs/job-runner.js';
import { issuesToFields, summarizeFields } from './validation.js';

/** Options of {@link startServer}; the CLI maps its flags onto them. */
export interface ServerOptions {
  /** Data directory: database, PKI, bootstrap admin key. Created if missing (mode 0700). */
  dataDir: string;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** Port; default 8470; 0 picks any free port. */
  port?: number;
  /**
   * `authority` (default) or `satellite`: an on-prem server that serves devices with its own
   * signing CA (SPEC §8); it starts without one and serves devices once registered.
   */
  mode?: 'authority' | 'satellite';
  /** A satellite's upstream (authority or middle satellite) base URL for network sync; satellite mode only. */
  upstream?: string;
  /**
   * Database: a SQLite path or `sqlite:PATH` (default `<dataDir>/smartlic.db`), or a PostgreSQL URL
   * `postgres://user:password@host:port/database` (the database must exist; the server migrates it).
   */
  dbUrl?: string;
  /**
   * PostgreSQL: connections in this process's pool (`--db-pool-size`); default
   * {@link DEFAULT_DB_POOL_SIZE}. Refused with SQLite (one connection, one writer).
   */
  dbPoolSize?: number;
  /** Time source; default the system clock. */
  clock?: Clock;
  /** pino level; default `info`; `silent` in tests. */
  logLevel?: string;
  /** Tolerated device clock offset in ms; default one hour. */
  clockToleranceMs?: number;
  /** Let webhooks reach loopback, private and link-local addresses (`--webhook-allow-private`); default false. */
  webhookAllowPrivate?: boolean;
  /** How webhook deliveries resolve host names; default the system resolver (tests inject one). */
  webhookResolver?: HostResolver;
  /** Request limits per minute, each defaulting to `DEFAULT_RATE_LIMITS`; `'off'` for benchmarks and tests that flood. */
  rateLimits?: Partial<RateLimits> | 'off';
  /**
   * HTTPS: `auto` issues the server a certificate from its own CA for the host, localhost,
   * 127.0.0.1, ::1 and `names`; `files` uses the operator's certificate (chain) and key, PEM.
   * Default: plain HTTP.
   */
  tls?: TlsOptions;
  /** Real time from listening to the first run of every background job (catch-up after a stop); default 5 s. */
  jobStartDelayMs?: number;
  /** Minutes a portal session may stay unused before it ends (`--session-idle-minutes`); default 30. */
  sessionIdleMinutes?: number;
  /** The built portal to serve at `/`; default `packages/portal/dist` beside this package. */
  portalDir?: string;
  /**
   * How much nicer than the event loop the process's other threads run, on Linux
   * (`--helper-nice`, ADR 0026); 0 (the default here, for servers embedded in another process)
   * leaves them as they are. `smartlic server` passes 10.
   */
  helperNice?: number;
}

/** The built portal beside the server package (the same path from `src/` and from `dist/`). */
export const DEFAULT_PORTAL_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../portal/dist');

/** How the server gets its TLS certificate. */
export type TlsOptions = { mode: 'auto'; names?: string[] } | { mode: 'files'; certFile: string; keyFile: string };

/** {@link ServerOptions} checked and completed with defaults. */
export interface ServerConfig {
  dataDir: string;
  host: string;
  port: number;
  mode: 'authority' | 'satellite';
  /** The satellite's upstream URL (`--upstream`), without a trailing slash; undefined on the authority. */
  upstream: string | undefined;
  database: DatabaseTarget;
  clock: Clock;
  logLevel: LogLevel;
  clockToleranceMs: number;
  webhookAllowPrivate: boolean;
  webhookResolver: HostResolver;
  rateLimits: RateLimits | 'off';
  tls: { mode: 'auto'; names: string[] } | { mode: 'files'; certFile: string; keyFile: string } | undefined;
  jobStartDelayMs: number;
  sessionIdleMinutes: number;
  portalDir: string;
  helperNice: number;
}

/** Where the data lives: a SQLite file or a PostgreSQL database. */
export type DatabaseTarget = { engine: 'sqlite'; file: string } | { engine: 'postgres'; url: string; poolSize: number };

/**
 * Connections a server process keeps to PostgreSQL unless `--db-pool-size` says otherwise. A
 * unit of work holds one for its transaction, a background job one more for its lock; several
 * processes on one database need `processes × pool size` below PostgreSQL's `max_connections`
 * (100 by default, a few reserved).
 */
export const DEFAULT_DB_POOL_SIZE = 10;
export const MAX_DB_POOL_SIZE = 1000;

export const DEFAULT_PORT = 8470;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const OptionsSchema = z.object({
  dataDir: z.string().trim().min(1, 'a data directory is required'),
  host: z.string().trim().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65_535).default(DEFAULT_PORT),
  mode: z.enum(['authority', 'satellite']).default('authority'),
  upstream: z
    .url({ protocol: /^https?$/, error: 'an http:// or https:// URL' })
    .max(2048)
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
  dbUrl: z.string().trim().min(1).optional(),
  dbPoolSize: z
    .number()
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(MAX_DB_POOL_SIZE, `must be at most ${MAX_DB_POOL_SIZE}`)
    .optional(),
  clock: z
    .custom<Clock>((v) => typeof (v as Clock | undefined)?.now === 'function', 'must have a now() method')
    .optional(),
  logLevel: z.enum(LOG_LEVELS).default('info'),
  clockToleranceMs: z.number().int().min(0).default(DEFAULT_TIMERS.clockToleranceMs),
  webhookAllowPrivate: z.boolean().default(false),
  jobStartDelayMs: z.number().int().min(0).default(DEFAULT_JOB_START_DELAY_MS),
  sessionIdleMinutes: z
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(30),
  portalDir: z.string().trim().min(1).optional(),
  helperNice: z.number().int('must be a whole number').min(0, 'must be 0 to 19').max(19, 'must be 0 to 19').default(0),
  webhookResolver: z.custom<HostResolver>((v) => typeof v === 'function', 'must be a function').optional(),
  rateLimits: z
    .union([z.literal('off'), z.object(rateLimitFields()).strict()], {
      error: '"off", or limits per minute: register, registerPerToken, device, admin, authFailures',
    })
    .default({})
    .transform((v) => (v === 'off' ? v : { ...DEFAULT_RATE_LIMITS, ...v })),
  tls: z
    .discriminatedUnion('mode', [
      z.object({
        mode: z.literal('auto'),
        names: z
          .array(
            z
              .string()
              .trim()
              .min(1)
              .max(253)
              .regex(/^[A-Za-z0-9.:*-]+$/, 'a TLS name is a host name or an IP address'),
          )
          .max(100)
          .default([]),
      }),
      z.object({
        mode: z.literal('files'),
        certFile: z.string().trim().min(1, 'a certificate file is required'),
        keyFile: z.string().trim().min(1, 'a key file is required'),
      }),
    ])
    .optional(),
});

/** Each limit is optional, a whole number of requests per minute, at least 1. */
function rateLimitFields() {
  const perMinute = z.number().min(1).max(10_000_000).refine(Number.isInteger, 'must be a whole number').optional();
  return Object.fromEntries(Object.keys(DEFAULT_RATE_LIMITS).map((k) => [k, perMinute])) as Record<
    keyof RateLimits,
    typeof perMinute
  >;
}

/** Checks the options; a bad option fails at once with a message naming it. */
export function parseServerConfig(options: ServerOptions): ServerConfig {
  const result = OptionsSchema.safeParse(options);
  if (!result.success) {
    const fields = issuesToFields(result.error.issues);
    throw new SmartlicError('BAD_REQUEST', {
      message: `Invalid server options: ${summarizeFields(fields)}`,
      context: { fields },
    });
  }
  const o = result.data;
  if (o.upstream !== undefined && o.mode !== 'satellite') {
    throw new SmartlicError('BAD_REQUEST', {
      message: 'Invalid server options: upstream: only a satellite has an upstream (add --mode satellite).',
      context: { fields: { upstream: ['only a satellite has an upstream'] } },
    });
  }
  const dataDir = resolve(o.dataDir);
  return {
    dataDir,
    host: o.host,
    port: o.port,
    mode: o.mode,
    upstream: o.upstream,
    database: databaseTargetOf(o.dbUrl, dataDir, o.dbPoolSize),
    clock: o.clock ?? systemClock,
    logLevel: o.logLevel,
    clockToleranceMs: o.clockToleranceMs,
    webhookAllowPrivate: o.webhookAllowPrivate,
    webhookResolver: o.webhookResolver ?? systemResolver,
    rateLimits: o.rateLimits,
    jobStartDelayMs: o.jobStartDelayMs,
    sessionIdleMinutes: o.sessionIdleMinutes,
    portalDir: o.portalDir === undefined ? DEFAULT_PORTAL_DIR : resolve(o.portalDir),
    helperNice: o.helperNice,
    tls:
      o.tls?.mode === 'files'
        ? { mode: 'files', certFile: resolve(o.tls.certFile), keyFile: resolve(o.tls.keyFile) }
        : o.tls,
  };
}

/** The database a `--db` value names: PostgreSQL for `postgres://` or `postgresql://`, else a SQLite file. */
export function databaseTargetOf(dbUrl: string | undefined, dataDir: string, poolSize?: number): DatabaseTarget {
  if (dbUrl !== undefined && /^postgres(ql)?:\/\//i.test(dbUrl)) {
    checkPostgresUrl(dbUrl);
    return { engine: 'postgres', url: dbUrl, poolSize: poolSize ?? DEFAULT_DB_POOL_SIZE };
  }
  if (poolSize !== undefined) {
    throw new SmartlicError('BAD_REQUEST', {
      message:
        'A database pool size applies to PostgreSQL only (--db postgres://…): SQLite uses one connection in the server process.',
      context: { fields: { dbPoolSize: ['applies to PostgreSQL only'] } },
    });
  }
  return { engine: 'sqlite', file: sqliteFileOf(dbUrl, dataDir) };
}

function checkPostgresUrl(dbUrl: string): void {
  let url: URL;
  try {
    url = new URL(dbUrl);
  } catch {
    throw new SmartlicError('BAD_REQUEST', {
      message: `The PostgreSQL URL "${redactUrl(dbUrl)}" is not a valid URL: write postgres://user:password@host:port/database (percent-encode special characters in the password).`,
    });
  }
  if (url.pathname.replace(/^\//, '') === '') {
    throw new SmartlicError('BAD_REQUEST', {
      message: `The PostgreSQL URL "${redactUrl(dbUrl)}" names no database: write postgres://user:password@host:port/database.`,
    });
  }
}

/** The SQLite file a `--db` value names; unknown schemes are refused clearly. */
export function sqliteFileOf(dbUrl: string | undefined, dataDir: string): string {
  if (dbUrl === undefined) return join(dataDir, 'smartlic.db');
  let path: string;
  if (/^file:\/\//i.test(dbUrl)) path = fileURLToPath(dbUrl);
  else if (/^sqlite:/i.test(dbUrl)) path = dbUrl.replace(/^sqlite:(\/\/)?/i, '');
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(dbUrl)) {
    throw new SmartlicError('BAD_REQUEST', {
      message: `Unsupported database URL "${redactUrl(dbUrl)}": use a SQLite file path, sqlite:PATH or postgres://user:password@host:port/database.`,
    });
  } else path = dbUrl;
  if (path === '') throw new SmartlicError('BAD_REQUEST', { message: 'The SQLite database URL names no file.' });
  return isAbsolute(path) ? path : resolve(path);
}

/** A URL without its password, fit for an error message or a log. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}
