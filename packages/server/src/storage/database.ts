import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresAdapter, SqliteDialect } from 'kysely';
import type pg from 'pg';
import type { DeviceStatements } from './device-statements.js';
import type { Database } from './schema.js';
import { createSqliteDeviceStatements } from './sqlite-device-statements.js';
import { createSqliteRegistrationStatements } from './sqlite-registration-statements.js';
import { withStatementCache } from './statement-cache.js';
import { createWalCheckpointer, type WalCheckpointer } from './wal-checkpointer.js';
import { createWalSync, type WalSync } from './wal-sync.js';

/** The database engines the server runs on. */
export type Engine = 'sqlite' | 'postgres';

/** An open database: Kysely for queries, whichever engine is behind it. */
export interface OpenDatabase {
  engine: Engine;
  db: Kysely<Database>;
  /** The authorization's statements, prepared for this engine. */
  deviceStatements: DeviceStatements;
  close(): Promise<void>;
}

/** An open SQLite database, with the driver's handle for pragmas and checks. */
export interface OpenSqliteDatabase extends OpenDatabase {
  engine: 'sqlite';
  sqlite: BetterSqlite3.Database;
  /** Makes commits durable (the connection runs synchronous=NORMAL): the group-commit transactor calls it before acknowledging. */
  walSync: WalSync;
  /** Checkpoints the log from a worker thread; the group-commit transactor asks after its syncs. */
  walCheckpointer: WalCheckpointer;
}

/** An open PostgreSQL database, with the driver's pool for what bypasses Kysely (streamed reports). */
export interface OpenPostgresDatabase extends OpenDatabase {
  engine: 'postgres';
  pool: pg.Pool;
}

/**
 * The driver's own handle of an open database, for the few reads that bypass Kysely because a
 * row object per row costs too much (the instances report of a whole VA, `features/reports`).
 */
export type RawDatabase = { engine: 'sqlite'; sqlite: BetterSqlite3.Database } | { engine: 'postgres'; pool: pg.Pool };

/** The driver's handle of `database`. */
export function rawDatabaseOf(database: OpenDatabase): RawDatabase {
  return database.engine === 'sqlite'
    ? { engine: 'sqlite', sqlite: (database as OpenSqliteDatabase).sqlite }
    : { engine: 'postgres', pool: (database as OpenPostgresDatabase).pool };
}

/** The engine behind `db` (read from its dialect adapter). */
export function engineOf(db: Kysely<Database>): Engine {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** Bytes of write-ahead log kept on disk after the log starts over (ADR 0025): 64 MiB. */
const WAL_SIZE_LIMIT = 64 * 1024 * 1024;

/**
 * Opens (creating if needed) the SQLite file with the pragmas the server relies on:
 * WAL (readers never block the writer), synchronous=NORMAL with the WAL synced off the event
 * loop before a unit is acknowledged (`walSync`, used by the group-commit transactor: an
 * acknowledged commit survives a crash or power loss, ADR 0002), foreign keys enforced, and a
 * 5 s busy timeout. Checkpoints run in a worker and start the log over under sustained writes
 * (`checkpoints`: their interval and the log size that calls for it, for tests; ADR 0025).
 */
export function openSqliteDatabase(
  file: string,
  options: { checkpoints?: { intervalMs?: number; restartFrames?: number } } = {},
): OpenSqliteDatabase {
  const sqlite = new BetterSqlite3(file);
  try {
    const mode = sqlite.pragma('journal_mode = WAL', { simple: true });
    if (String(mode).toLowerCase() !== 'wal') {
      throw new Error(`SQLite refused WAL mode for ${file} (journal_mode is ${String(mode)})`);
    }
    sqlite.pragma('synchronous = NORMAL');
    // Checkpoints run in a worker (walCheckpointer), not inside a COMMIT on the event loop.
    sqlite.pragma('wal_autocheckpoint = 0');
    // A log that grew while something kept it from starting over (a long read) shrinks back to this when it does.
    sqlite.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
  } catch (error) {
    sqlite.close();
    throw error;
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  const walSync = createWalSync(file);
  let closed = false;
  const walCheckpointer = createWalCheckpointer(file, {
    ...options.checkpoints,
    // Without the worker, SQLite checkpoints inside COMMIT again, as it does by default.
    onFailure: () => {
      if (!closed) sqlite.pragma('wal_autocheckpoint = 1000');
    },
  });
  return {
    engine: 'sqlite',
    db,
    sqlite,
    walSync,
    walCheckpointer,
    deviceStatements: { ...createSqliteDeviceStatements(sqlite), ...createSqliteRegistrationStatements(sqlite) },
    async close() {
      if (closed) return;
      closed = true;
      await walSync.close();
      await walCheckpointer.close();
      // Closing checkpoints the log into the database file and syncs it.
      await db.destroy();
    },
  };
}
