import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Migrator } from 'kysely';
import { describe, expect, it } from 'vitest';
import { makeTempDir } from '../../test-support/temp-dir.js';
import { openSqliteDatabase } from '../database.js';
import { migrationProvider } from '../migrations.js';

describe('migration 0009: token hashes', () => {
  const dir = makeTempDir();

  it('backfills hashes and marks values plain; down restores them, unless they were encrypted', async () => {
    const database = openSqliteDatabase(join(dir.path, 'm.db'));
    const migrator = new Migrator({ db: database.db, provider: migrationProvider });
    try {
      expect((await migrator.migrateTo('0008-webhook-secrets-at-rest')).error).toBeUndefined();
      const run = (q: string, ...args: unknown[]) => database.sqlite.prepare(q).run(...args);
      run("insert into smart_accounts values ('a', 'A', 'a.example', 1)");
      run("insert into virtual_accounts values ('v', 'a', 'Lab', 1)");
      run(
        "insert into tokens (id, va_id, token, description, created_at, expires_at) values ('t', 'v', 'Tsecret', '', 1, 2)",
      );
      expect((await migrator.migrateTo('0009-conversion-review-and-token-hashes')).error).toBeUndefined();
      const row = () => database.sqlite.prepare('select * from tokens').get() as Record<string, unknown>;
      expect(row()).toMatchObject({
        token: 'plain:Tsecret',
        token_hash: createHash('sha256').update('Tsecret').digest('hex'),
      });
      // The hash is unique: two tokens cannot share it.
      expect(() =>
        run(
          "insert into tokens (id, va_id, token, token_hash, description, created_at, expires_at) values ('u', 'v', 'x', ?, '', 1, 2)",
          row().token_hash,
        ),
      ).toThrow(/UNIQUE/);

      expect((await migrator.migrateTo('0008-webhook-secrets-at-rest')).error).toBeUndefined();
      expect(row()).toEqual(expect.objectContaining({ token: 'Tsecret' }));
      expect('token_hash' in row()).toBe(false);

      expect((await migrator.migrateToLatest()).error).toBeUndefined();
      run("update tokens set token = 'v1:iv:tag:data'");
      const down = await migrator.migrateTo('0008-webhook-secrets-at-rest');
      expect(String(down.error)).toContain('Token values are encrypted');
    } finally {
      await database.close();
      dir.remove();
    }
  });
});
