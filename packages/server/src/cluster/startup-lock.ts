import type { DatabaseTarget } from '../config.js';

/** The advisory lock key (`smlc`) held while a process prepares files several processes share. */
export const STARTUP_LOCK_KEY = 0x736d6c63;

/**
 * Runs `prepare` (creating the PKI, secrets key, TLS material and admin key of the data
 * directory when missing) while holding a PostgreSQL session advisory lock, so that processes
 * started together on one database and one (shared) data directory create those files once
 * and all load the same ones. On SQLite, with one process per data directory, it just runs.
 * The lock goes with its session: a process killed meanwhile releases it.
 */
export async function withStartupLock<T>(target: DatabaseTarget, prepare: () => Promise<T>): Promise<T> {
  if (target.engine !== 'postgres') return prepare();
  const { default: pg } = await import('pg'); // not loaded by a SQLite server
  const client = new pg.Client({ connectionString: target.url, application_name: 'smartlic-startup' });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [STARTUP_LOCK_KEY]);
    return await prepare();
  } finally {
    await client.end().catch(() => undefined);
  }
}
