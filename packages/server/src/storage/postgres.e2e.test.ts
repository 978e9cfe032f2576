import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresUrl, type TestDatabase } from '../test-support/postgres.js';
import type { OpenDatabase } from './database.js';
import { migrateToLatest } from './migrate.js';
import { MIGRATIONS } from './migrations.js';
import { openPostgresDatabase } from './postgres.js';
import { createTransactor } from './transactor.js';

describe.skipIf(!postgresUrl())('PostgreSQL storage', () => {
  let target: TestDatabase;
  let database: OpenDatabase;

  beforeAll(async () => {
    target = await createTestDatabase();
    database = await openPostgresDatabase(target.url);
    await migrateToLatest(database.db);
  });
  afterAll(async () => {
    await database?.close();
    await target?.drop();
  });

  it('runs every migration once even when several servers start together', async () => {
    const fresh = await createTestDatabase();
    const opened = await Promise.all([1, 2, 3, 4].map(() => openPostgresDatabase(fresh.url)));
    try {
      const applied = await Promise.all(opened.map((d) => migrateToLatest(d.db)));
      // Kysely's migrator holds an advisory lock: exactly one start applies each migration.
      expect(applied.flat().sort()).toEqual(Object.keys(MIGRATIONS).sort());
      const { rows } = await sql<{ n: number }>`select count(*) as n from kysely_migration`.execute(opened[0]!.db);
      expect(rows[0]!.n).toBe(Object.keys(MIGRATIONS).length);
    } finally {
      await Promise.all(opened.map((d) => d.close()));
      await fresh.drop();
    }
  });

  it('answers bigint columns, count(*) and sum() as numbers, as SQLite does', async () => {
    const db = database.db;
    const at = 1_893_456_000_123; // 2030, beyond 32 bits
    await db
      .insertInto('smart_accounts')
      .values({ id: 'sa', name: 'A', domain: 'a.example', created_at: at })
      .execute();
    await db.insertInto('virtual_accounts').values({ id: 'va', account_id: 'sa', name: 'V', created_at: at }).execute();
    await db
      .insertInto('va_usage')
      .values([
        { va_id: 'va', tag: 't1', in_use: 2 ** 40 },
        { va_id: 'va', tag: 't2', in_use: 5 },
      ])
      .execute();
    const account = await db.selectFrom('smart_accounts').selectAll().where('id', '=', 'sa').executeTakeFirstOrThrow();
    expect(account.created_at).toBe(at);
    const totals = await db
      .selectFrom('va_usage')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<number>('in_use').as('total')])
      .executeTakeFirstOrThrow();
    expect(totals).toEqual({ n: 2, total: 2 ** 40 + 5 });
  });

  it('refuses an int8 beyond the safe integers instead of rounding it', async () => {
    await expect(sql`select 9007199254740993::int8 as big`.execute(database.db)).rejects.toThrow(
      /beyond JavaScript's safe integers/,
    );
  });

  it('retries a unit of work that lost a serialization conflict, so that no increment is lost', async () => {
    const db = database.db;
    await db.insertInto('va_usage').values({ va_id: 'va', tag: 'race', in_use: 0 }).execute();
    const transactor = createTransactor(database);
    // Read-check-write units: each reads the total and writes it back plus one.
    await Promise.all(
      Array.from({ length: 40 }, () =>
        transactor.run(async (trx) => {
          const row = await trx
            .selectFrom('va_usage')
            .select('in_use')
            .where('va_id', '=', 'va')
            .where('tag', '=', 'race')
            .executeTakeFirstOrThrow();
          await trx
            .updateTable('va_usage')
            .set({ in_use: row.in_use + 1 })
            .where('va_id', '=', 'va')
            .where('tag', '=', 'race')
            .execute();
        }),
      ),
    );
    await transactor.drain();
    const row = await db.selectFrom('va_usage').select('in_use').where('tag', '=', 'race').executeTakeFirstOrThrow();
    expect(row.in_use).toBe(40);
  });

  it('rolls back a unit that throws, and only that unit', async () => {
    const transactor = createTransactor(database);
    const insert = (id: string) =>
      transactor.run((trx) =>
        trx
          .insertInto('users')
          .values({ id, email: `${id}@a.example`, created_at: 1 })
          .execute(),
      );
    const failing = transactor.run(async (trx) => {
      await trx.insertInto('users').values({ id: 'u-bad', email: 'bad@a.example', created_at: 1 }).execute();
      throw new Error('undo me');
    });
    await expect(failing).rejects.toThrow('undo me');
    await Promise.all([insert('u1'), insert('u2')]);
    const ids = await database.db.selectFrom('users').select('id').orderBy('id').execute();
    expect(ids.map((r) => r.id)).toEqual(['u1', 'u2']);
  });
});

describe.skipIf(!postgresUrl())('PostgreSQL connection failures', () => {
  const admin = () => new URL(postgresUrl()!);

  it('says so in one sentence when nothing listens at the address', async () => {
    const url = admin();
    url.port = '1'; // nothing listens on port 1 of 127.0.0.1
    url.pathname = '/smartlic';
    await expect(openPostgresDatabase(url.toString())).rejects.toThrow(
      'Cannot connect to PostgreSQL at 127.0.0.1:1: the connection was refused (is PostgreSQL running there, and is that its address in --db?).',
    );
  });

  it('says so when the login is refused, without showing the password', async () => {
    const url = admin();
    url.password = 'wrong-password';
    const error = await openPostgresDatabase(url.toString()).catch((e: Error) => e);
    expect((error as Error).message).toMatch(
      /^PostgreSQL at 127\.0\.0\.1:\d+ refused the login of user "postgres" \(.*password authentication failed.*\): check the user name and password in --db\.$/,
    );
    expect((error as Error).message).not.toContain('wrong-password');
  });

  it('says so when the database does not exist', async () => {
    const url = admin();
    url.pathname = '/no_such_db';
    await expect(openPostgresDatabase(url.toString())).rejects.toThrow(
      /^The PostgreSQL database "no_such_db" does not exist at 127\.0\.0\.1:\d+: create it \(createdb no_such_db\) or fix its name in --db\.$/,
    );
  });
});
