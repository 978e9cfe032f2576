import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from './schema.js';
import { withStatementCache } from './statement-cache.js';

/** An open database: Kysely for queries, and the driver's handle for pragmas and checks. */
export interface OpenDatabase {
  db: Kysely<Database>;
  sqlite: BetterSqlite3.Database;
  close(): Promise<void>;
}

/**
 * Opens (creating if needed) the SQLite file with the pragmas the server relies on:
 * WAL (readers never block the writer), synchronous=FULL (an acknowledged commit survives
 * a crash or power loss), foreign keys enforced, and a 5 s busy timeout.
 */
export function openSqliteDatabase(file: string): OpenDatabase {
  const sqlite = new BetterSqlite3(file);
  try {
    const mode = sqlite.pragma('journal_mode = WAL', { simple: true });
    if (String(mode).toLowerCase() !== 'wal') {
      throw new Error(`SQLite refused WAL mode for ${file} (journal_mode is ${String(mode)})`);
    }
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
  } catch (error) {
    sqlite.close();
    throw error;
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  let closed = false;
  return {
    db,
    sqlite,
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}
