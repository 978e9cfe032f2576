import { join } from 'node:path';
import { Migrator } from 'kysely';
import { describe, expect, it } from 'vitest';
import { readReportedNames } from '../../features/compliance/usage-store.js';
import { makeTempDir } from '../../test-support/temp-dir.js';
import { openSqliteDatabase } from '../database.js';
import { migrationProvider } from '../migrations.js';

describe('migration 0015: fleet scale', () => {
  const dir = makeTempDir();

  it('counts the names instances already report, per VA; down drops the table and restores the indexes', async () => {
    const database = openSqliteDatabase(join(dir.path, 'm.db'));
    const migrator = new Migrator({ db: database.db, provider: migrationProvider });
    try {
      expect((await migrator.migrateTo('0010-scoped-api-keys')).error).toBeUndefined();
      const run = (q: string, ...args: unknown[]) => database.sqlite.prepare(q).run(...args);
      run("insert into smart_accounts values ('a', 'A', 'a.example', 1)");
      run("insert into virtual_accounts values ('v1', 'a', 'Lab', 1), ('v2', 'a', 'Prod', 1)");
      const instance = (id: string, va: string) =>
        run(
          `insert into instances (id, va_id, pid, sn, software_tag, public_key_spki, id_cert_pem, id_cert_serial,
            id_cert_expires_at, registered_at, last_contact_at) values (?, ?, 'P', ?, 's', 'k', 'c', ?, 1, 1, 1)`,
          id,
          va,
          id,
          id,
        );
      for (const [id, va] of [
        ['i1', 'v1'],
        ['i2', 'v1'],
        ['i3', 'v2'],
      ] as const) {
        instance(id, va);
      }
      run(`insert into instance_usage values ('i1', 'T', 1, 'Name B'), ('i2', 'T', 2, 'Name B'), ('i2', 'U', 1, null),
        ('i3', 'T', 1, 'Name A')`);

      expect((await migrator.migrateTo('0015-fleet-scale')).error).toBeUndefined();
      expect(
        database.sqlite.prepare('select * from va_reported_names order by va_id, tag, display_name').all(),
      ).toEqual([
        { va_id: 'v1', tag: 'T', display_name: 'Name B', instances: 2 },
        { va_id: 'v2', tag: 'T', display_name: 'Name A', instances: 1 },
      ]);
      expect(await readReportedNames(database.db, 'v1')).toEqual(new Map([['T', 'Name B']]));
      const plan = database.sqlite
        .prepare(
          "explain query plan select id from instances where va_id = 'v1' and registered_at >= 0 order by registered_at, pid, sn limit 5",
        )
        .all() as Array<{ detail: string }>;
      expect(plan.map((p) => p.detail).join(' ')).toMatch(/USING INDEX instances_va_registered/);
      expect(plan.map((p) => p.detail).join(' ')).not.toMatch(/TEMP B-TREE/);

      expect((await migrator.migrateTo('0010-scoped-api-keys')).error).toBeUndefined();
      const tables = database.sqlite.prepare("select name from sqlite_master where name like 'va_reported%'").all();
      expect(tables).toEqual([]);
      const indexes = database.sqlite
        .prepare("select name from sqlite_master where type = 'index' and name in ('instances_va', 'events_va_at')")
        .all();
      expect(indexes).toHaveLength(2);
    } finally {
      await database.close();
      dir.remove();
    }
  });
});
