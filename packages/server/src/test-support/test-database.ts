import { join } from 'node:path';
import { type Engine, type OpenDatabase, openSqliteDatabase } from '../storage/database.js';
import { migrateToLatest } from '../storage/migrate.js';
import { openPostgresDatabase } from '../storage/postgres.js';
import { acquireTestDatabase } from './postgres.js';
import { makeTempDir } from './temp-dir.js';

/** A migrated database of `engine` for a store test; `dispose` closes it and frees it for the next test. */
export async function openTestDatabase(engine: Engine): Promise<{ database: OpenDatabase; dispose(): Promise<void> }> {
  if (engine === 'postgres') {
    const leased = await acquireTestDatabase();
    const database = await openPostgresDatabase(leased.url);
    await migrateToLatest(database.db);
    return {
      database,
      async dispose() {
        await database.close();
        await leased.release();
      },
    };
  }
  const dir = makeTempDir();
  const database = openSqliteDatabase(join(dir.path, 'smartlic.db'));
  await migrateToLatest(database.db);
  return {
    database,
    async dispose() {
      await database.close();
      dir.remove();
    },
  };
}
