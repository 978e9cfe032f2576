import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { instanceRow } from '../test-support/store-rows.js';
import { makeTempDir } from '../test-support/temp-dir.js';
import { openSqliteDatabase } from './database.js';
import { migrateToLatest } from './migrate.js';
import { MIGRATIONS } from './migrations.js';

describe('SQLite database', () => {
  const dir = makeTempDir();
  afterAll(() => dir.remove());

  it('opens with WAL, synchronous NORMAL (the WAL is synced by the transactor), foreign keys and a busy timeout, and migrates idempotently', async () => {
    const database = openSqliteDatabase(join(dir.path, 'a.db'));
    try {
      expect(database.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(database.sqlite.pragma('synchronous', { simple: true })).toBe(1);
      expect(database.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(database.sqlite.pragma('busy_timeout', { simple: true })).toBe(5000);
      expect(await migrateToLatest(database.db)).toEqual(Object.keys(MIGRATIONS));
      expect(await migrateToLatest(database.db)).toEqual([]);
      const tables = database.sqlite
        .prepare("select name from sqlite_master where type = 'table' and name not like 'kysely%' order by name")
        .all()
        .map((r) => (r as { name: string }).name);
      // Later migrations add tables; these are the ones every feature relies on.
      expect(tables).toEqual(
        expect.arrayContaining([
          'api_keys',
          'events',
          'role_grants',
          'users',
          'instance_usage',
          'instances',
          'license_pools',
          'nonces',
          'smart_accounts',
          'tokens',
          'va_usage',
          'virtual_accounts',
        ]),
      );
    } finally {
      await database.close();
    }
  });

  it('enforces foreign keys and the unique UDI', async () => {
    const database = openSqliteDatabase(join(dir.path, 'b.db'));
    try {
      await migrateToLatest(database.db);
      await expect(
        database.db
          .insertInto('virtual_accounts')
          .values({ id: 'v', account_id: 'missing', name: 'x', created_at: 1 })
          .execute(),
      ).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_FOREIGNKEY' });
      await database.db
        .insertInto('smart_accounts')
        .values({ id: 'a', name: 'A', domain: 'a.example', created_at: 1 })
        .execute();
      await database.db
        .insertInto('virtual_accounts')
        .values({ id: 'v', account_id: 'a', name: 'x', created_at: 1 })
        .execute();
      await database.db
        .insertInto('instances')
        .values(instanceRow('i1', 'v', { sn: 'S' }))
        .execute();
      await expect(
        database.db
          .insertInto('instances')
          .values(instanceRow('i2', 'v', { sn: 'S' }))
          .execute(),
      ).rejects.toMatchObject({
        code: 'SQLITE_CONSTRAINT_UNIQUE',
      });
    } finally {
      await database.close();
    }
  });
});
