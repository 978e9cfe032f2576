import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readBalances } from '../features/compliance/balances.js';
import { readInstanceUsage, replaceInstanceUsage } from '../features/compliance/usage-store.js';
import { recordNonce } from '../features/device/nonce-store.js';
import { touchInstanceInVa } from '../features/instances/instance-store.js';
import { describeEachEngine } from '../test-support/postgres.js';
import { insertAccountWithVas, instanceRow } from '../test-support/store-rows.js';
import { openTestDatabase } from '../test-support/test-database.js';
import type { OpenDatabase } from './database.js';
import type { DeviceStatements } from './device-statements.js';
import type { Database } from './schema.js';
import { createTransactor, type Transactor } from './transactor.js';

const DAY = 86_400_000;
const NOW = 1_000 * DAY;

/** Tags with every kind of balance: pools (active, expired, future, several), usage only, both, neither. */
const POOLS = [
  { tag: 'A', quantity: 10, starts_at: 0, ends_at: null, display_name: 'Alpha' },
  { tag: 'A', quantity: 5, starts_at: NOW - DAY, ends_at: NOW + DAY, display_name: 'Alpha (term)' },
  { tag: 'B', quantity: 7, starts_at: 0, ends_at: NOW, display_name: 'Bravo' }, // ends now: not active
  { tag: 'C', quantity: 3, starts_at: NOW + 1, ends_at: null, display_name: 'Charlie' }, // not yet
  { tag: 'D', quantity: 2, starts_at: NOW, ends_at: null, display_name: null }, // starts now: active
  { tag: "quote ' and ünïcode", quantity: 1, starts_at: 0, ends_at: null, display_name: 'Q' },
];

describeEachEngine('the authorization statements give what their Kysely twins give', (engine) => {
  let handle: Awaited<ReturnType<typeof openTestDatabase>>;
  let database: OpenDatabase;
  let statements: DeviceStatements;
  let transactor: Transactor;

  beforeAll(async () => {
    handle = await openTestDatabase(engine);
    database = handle.database;
    statements = database.deviceStatements;
    transactor = createTransactor(database);
    const { db } = database;
    await insertAccountWithVas(db, ['va', 'other']);
    for (const [i, pool] of POOLS.entries()) {
      await db
        .insertInto('license_pools')
        .values({ id: `p${i}`, va_id: 'va', type: 'perpetual', created_at: 0, ...pool })
        .execute();
    }
    await db
      .insertInto('license_pools')
      .values({
        id: 'elsewhere',
        va_id: 'other',
        tag: 'A',
        quantity: 99,
        type: 'perpetual',
        starts_at: 0,
        ends_at: null,
        display_name: 'X',
        created_at: 0,
      })
      .execute();
    for (const [id, previous] of [
      ['i1', null],
      ['i2', 'old'],
    ] as const) {
      await db
        .insertInto('instances')
        .values(
          instanceRow(id, 'va', {
            id_cert_serial: 'current',
            previous_id_cert_serial: previous,
            compliance_status: id === 'i2' ? 'InCompliance' : null,
          }),
        )
        .execute();
    }
    await transactor.run(async (trx) => {
      const owner = (instanceId: string) => ({ instanceId, vaId: 'va' });
      await replaceInstanceUsage(
        trx,
        owner('i1'),
        [],
        [
          { tag: 'A', count: 4, displayName: 'Alpha device' },
          { tag: 'E', count: 2, displayName: null },
          { tag: 'B', count: 1, displayName: null },
        ],
      );
      await replaceInstanceUsage(trx, owner('i2'), [], [{ tag: 'A', count: 3, displayName: null }]);
    });
  });
  afterAll(async () => {
    await handle?.dispose();
  });

  /** Runs `read` both ways in one unit of work, returning [prepared, Kysely]. */
  const both = <T>(
    prepared: (trx: Kysely<Database>) => Promise<T>,
    kysely: (trx: Kysely<Database>) => Promise<T>,
  ): Promise<[T, T]> => transactor.run(async (trx) => [await prepared(trx), await kysely(trx)] as [T, T]);

  it('reads balances alike for any set of tags', async () => {
    const sets = [
      ['A'],
      ['B'],
      ['C'],
      ['D'],
      ['E'],
      ['none'],
      ['A', 'B', 'C', 'D', 'E', 'none'],
      ["quote ' and ünïcode", 'A'],
      Array.from({ length: 40 }, (_, i) => (i === 7 ? 'A' : `T${i}`)),
    ];
    for (const tags of sets) {
      for (const at of [0, NOW - 1, NOW, NOW + DAY, NOW + 2 * DAY]) {
        const [prepared, kysely] = await both(
          (trx) => statements.readBalances(trx, 'va', at, tags),
          (trx) => readBalances(trx, 'va', at, tags),
        );
        expect(prepared, `${tags.join(',')} at ${at}`).toEqual(kysely);
      }
    }
    // Spot check of what both answer: pools active at NOW, and usage.
    expect(
      (
        await both(
          (trx) => statements.readBalances(trx, 'va', NOW, ['A', 'B', 'C', 'D', 'E']),
          async () => 0,
        )
      )[0],
    ).toEqual(
      new Map([
        ['A', { quantity: 15, inUse: 7, displayName: 'Alpha (term)' }],
        ['B', { quantity: 0, inUse: 1, displayName: null }],
        ['D', { quantity: 2, inUse: 0, displayName: null }],
        ['E', { quantity: 0, inUse: 2, displayName: null }],
      ]),
    );
  });

  it('reads an instance’s usage alike', async () => {
    for (const id of ['i1', 'i2', 'missing']) {
      const [prepared, kysely] = await both(
        (trx) => statements.readInstanceUsage(trx, id),
        (trx) => readInstanceUsage(trx, id),
      );
      const byTag = (rows: typeof prepared) => [...rows].sort((a, b) => a.tag.localeCompare(b.tag));
      expect(byTag(prepared)).toEqual(byTag(kysely));
    }
  });

  it('records nonces alike: new once, a replay after', async () => {
    const results = await transactor.run(async (trx) => [
      await statements.recordNonce(trx, 'n1', NOW),
      await statements.recordNonce(trx, 'n1', NOW),
      await recordNonce(trx, 'n1', NOW),
      await recordNonce(trx, 'n2', NOW),
      await statements.recordNonce(trx, 'n2', NOW),
    ]);
    expect(results).toEqual([true, false, false, true, false]);
  });

  it('touches an instance alike, for the current, the previous and a foreign certificate', async () => {
    const cases: Array<[string, string]> = [
      ['i1', 'current'],
      ['i1', 'old'],
      ['i2', 'current'],
      ['i2', 'old'],
      ['i2', 'other'],
      ['missing', 'current'],
    ];
    for (const [id, serial] of cases) {
      const [prepared, kysely] = await both(
        (trx) => statements.touchInstanceInVa(trx, id, serial, NOW + 1),
        (trx) => touchInstanceInVa(trx, id, serial, NOW + 2),
      );
      expect(prepared, `${id} ${serial}`).toEqual(kysely);
    }
    const row = await database.db
      .selectFrom('instances')
      .select('last_contact_at')
      .where('id', '=', 'i2')
      .executeTakeFirstOrThrow();
    expect(row.last_contact_at).toBe(NOW + 2);
    expect(
      (
        await both(
          (trx) => statements.touchInstanceInVa(trx, 'i2', 'old', NOW),
          async () => undefined,
        )
      )[0],
    ).toEqual({ vaId: 'va', complianceStatus: 'InCompliance', silentCounted: false });
    // An instance counted silent says so on both paths (the renewal then takes it out of the count).
    await database.db.updateTable('instances').set({ silent_counted: 1 }).where('id', '=', 'i1').execute();
    const [prepared, kysely] = await both(
      (trx) => statements.touchInstanceInVa(trx, 'i1', 'current', NOW + 3),
      (trx) => touchInstanceInVa(trx, 'i1', 'current', NOW + 4),
    );
    expect(prepared).toMatchObject({ silentCounted: true });
    expect(prepared).toEqual(kysely);
  });

  it.runIf(engine === 'postgres')(
    'are named prepared statements on PostgreSQL, parsed once per connection',
    async () => {
      const names = await transactor.run(async (trx) => {
        await statements.readInstanceUsage(trx, 'i1');
        await statements.readBalances(trx, 'va', NOW, ['A', 'B']);
        const { rows } = await sql<{ name: string }>`select name from pg_prepared_statements order by name`.execute(
          trx,
        );
        return rows.map((r) => r.name);
      });
      expect(names).toEqual(expect.arrayContaining(['smartlic_balances_2', 'smartlic_read_usage']));
    },
  );
});
