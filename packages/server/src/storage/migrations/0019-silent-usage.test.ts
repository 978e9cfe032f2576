import { join } from 'node:path';
import { Migrator } from 'kysely';
import { describe, expect, it } from 'vitest';
import { makeTempDir } from '../../test-support/temp-dir.js';
import { openSqliteDatabase } from '../database.js';
import { migrationProvider } from '../migrations.js';

describe('migration 0019: silent usage', () => {
  const dir = makeTempDir();

  it('leaves every instance uncounted, reads fallen-silent instances by index; down drops what it added', async () => {
    const database = openSqliteDatabase(join(dir.path, 'm.db'));
    const migrator = new Migrator({ db: database.db, provider: migrationProvider });
    try {
      expect((await migrator.migrateTo('0015-fleet-scale')).error).toBeUndefined();
      const run = (q: string, ...args: unknown[]) => database.sqlite.prepare(q).run(...args);
      run("insert into smart_accounts values ('a', 'A', 'a.example', 1)");
      run("insert into virtual_accounts values ('v1', 'a', 'Lab', 1)");
      run(`insert into instances (id, va_id, pid, sn, software_tag, public_key_spki, id_cert_pem, id_cert_serial,
            id_cert_expires_at, registered_at, last_contact_at) values ('i1', 'v1', 'P', 'S', 's', 'k', 'c', 'x', 1, 1, 1)`);

      expect((await migrator.migrateTo('0019-silent-usage')).error).toBeUndefined();
      expect(database.sqlite.prepare('select id, silent_counted from instances').all()).toEqual([
        { id: 'i1', silent_counted: 0 },
      ]);
      expect(database.sqlite.prepare('select * from va_silent_usage').all()).toEqual([]);
      const plan = database.sqlite
        .prepare(
          "explain query plan select id from instances i where i.va_id = 'v1' and i.silent_counted = 0 and i.last_contact_at <= 5",
        )
        .all() as Array<{ detail: string }>;
      expect(plan.map((p) => p.detail).join(' ')).toMatch(/USING (COVERING )?INDEX instances_va_silent_contact/);

      expect((await migrator.migrateTo('0015-fleet-scale')).error).toBeUndefined();
      expect(database.sqlite.prepare("select name from sqlite_master where name like '%silent%'").all()).toEqual([]);
      const columns = database.sqlite.prepare('pragma table_info(instances)').all() as Array<{ name: string }>;
      expect(columns.map((c) => c.name)).not.toContain('silent_counted');
    } finally {
      await database.close();
      dir.remove();
    }
  });
});
