import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventRow, recordEvent } from '../features/events/event-recorder.js';
import { findInstanceByUdi, insertInstance } from '../features/instances/instance-store.js';
import { refuseIfServedBySatellite } from '../features/satellites/served-vas.js';
import { consumeTokenUse, findTokenByValue } from '../features/tokens/token-store.js';
import { tokenHash } from '../features/tokens/token-values.js';
import { describeEachEngine } from '../test-support/postgres.js';
import { insertAccountWithVas, satelliteRow } from '../test-support/store-rows.js';
import { openTestDatabase } from '../test-support/test-database.js';
import type { OpenDatabase } from './database.js';
import type { DeviceStatements } from './device-statements.js';
import type { RegisteredInstanceRow } from './registration-statements.js';
import type { Database, TokenRow } from './schema.js';
import { createTransactor, type Transactor } from './transactor.js';
import { isUniqueViolation } from './unique-violation.js';

const NOW = 1_000_000;

/** Tokens in every state a registration meets: usable, used up, unlimited, revoked, expired. */
const TOKENS: TokenRow[] = [
  { id: 't-ok', max_uses: 3, uses: 1, revoked_at: null, expires_at: NOW + 1 },
  { id: 't-full', max_uses: 2, uses: 2, revoked_at: null, expires_at: NOW + 1 },
  { id: 't-unlimited', max_uses: null, uses: 40, revoked_at: null, expires_at: NOW + 1 },
  { id: 't-revoked', max_uses: null, uses: 0, revoked_at: NOW - 5, expires_at: NOW + 1 },
  { id: 't-expired', max_uses: null, uses: 0, revoked_at: null, expires_at: NOW },
].map((t, i) => ({
  ...t,
  va_id: i === 1 ? 'served' : 'va',
  token: `v1:secret-${t.id}`,
  token_hash: tokenHash(`value ${t.id}`),
  description: `token ${t.id} ü '`,
  created_at: i,
  export_controlled: i % 2,
}));

const instance = (id: string, sn: string): RegisteredInstanceRow => ({
  id,
  va_id: 'va',
  token_id: 't-ok',
  pid: "P'ü",
  sn,
  hostname: sn === 'a' ? null : 'host',
  software_tag: 'regid.2026-01.org.example',
  public_key_spki: 'spki',
  id_cert_pem: 'pem',
  id_cert_serial: `serial-${id}`,
  id_cert_expires_at: NOW + 360,
  registered_at: NOW,
  last_contact_at: NOW,
  export_controlled: 1,
});

describeEachEngine('the registration statements give what their Kysely twins give', (engine) => {
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
    await insertAccountWithVas(db, ['va', 'served']);
    for (const token of TOKENS) await db.insertInto('tokens').values(token).execute();
    await db
      .insertInto('satellites')
      .values(satelliteRow('sat', 'sa', 'edge one', 0))
      .execute();
    await db.insertInto('satellite_vas').values({ va_id: 'served', satellite_id: 'sat' }).execute();
  });
  afterAll(async () => {
    await handle?.dispose();
  });

  /** Runs both in one unit of work, returning [prepared, Kysely]. */
  const both = <T>(
    prepared: (trx: Kysely<Database>) => Promise<T>,
    kysely: (trx: Kysely<Database>) => Promise<T>,
  ): Promise<[T, T]> => transactor.run(async (trx) => [await prepared(trx), await kysely(trx)] as [T, T]);

  it('finds tokens by their hash alike, whole rows', async () => {
    for (const value of [...TOKENS.map((t) => `value ${t.id}`), 'unknown']) {
      const [prepared, kysely] = await both(
        (trx) => statements.findTokenByHash(trx, tokenHash(value)),
        (trx) => findTokenByValue(trx, value),
      );
      expect(prepared, value).toEqual(kysely);
    }
    // Outside a unit too (the registration's preview).
    expect(await statements.findTokenByHash(database.db, tokenHash('value t-ok'))).toEqual(TOKENS[0]);
  });

  it('finds the satellite serving a VA alike', async () => {
    for (const vaId of ['va', 'served', 'missing']) {
      const [prepared, kysely] = await both(
        (trx) => statements.findServingSatellite(trx, vaId),
        (trx) =>
          refuseIfServedBySatellite(trx, vaId).then(
            () => undefined,
            (error: { context: { satellite: string } }) => ({ va: vaId, satellite: error.context.satellite }),
          ),
      );
      expect(prepared, vaId).toEqual(kysely);
    }
    expect(
      await both(
        (trx) => statements.findServingSatellite(trx, 'served'),
        async () => 0,
      ),
    ).toEqual([{ va: 'served', satellite: 'edge one' }, 0]);
  });

  it('consumes token uses alike: never past the limit, never a revoked or expired token', async () => {
    const uses = async () =>
      Object.fromEntries(
        (await database.db.selectFrom('tokens').select(['id', 'uses']).execute()).map((r) => [r.id, r.uses]),
      );
    const before = await uses();
    const results: Record<string, [boolean, boolean][]> = {};
    for (const token of TOKENS) {
      results[token.id] = [];
      for (let i = 0; i < 2; i++) {
        results[token.id]!.push(
          await both(
            (trx) => statements.consumeTokenUse(trx, token.id, NOW),
            (trx) => consumeTokenUse(trx, token.id, NOW),
          ),
        );
      }
    }
    expect(results).toEqual({
      't-ok': [
        [true, true],
        [false, false],
      ],
      't-full': [
        [false, false],
        [false, false],
      ],
      't-unlimited': [
        [true, true],
        [true, true],
      ],
      't-revoked': [
        [false, false],
        [false, false],
      ],
      't-expired': [
        [false, false],
        [false, false],
      ],
    });
    expect(await uses()).toEqual({ ...before, 't-ok': 3, 't-unlimited': 44 });
  });

  it('inserts instances alike, finds them by UDI alike, and a UDI twice is the engine’s unique violation', async () => {
    await transactor.run(async (trx) => {
      await statements.insertInstance(trx, instance('i-prepared', 'a'));
      await insertInstance(trx, instance('i-kysely', 'b'));
    });
    const rows = await database.db
      .selectFrom('instances')
      .selectAll()
      .where('id', 'in', ['i-prepared', 'i-kysely'])
      .orderBy('id')
      .execute();
    const [kyselyRow, preparedRow] = rows;
    expect({ ...preparedRow, id: '', sn: '', hostname: null, id_cert_serial: '' }).toEqual({
      ...kyselyRow,
      id: '',
      sn: '',
      hostname: null,
      id_cert_serial: '',
    });
    expect(preparedRow).toMatchObject(instance('i-prepared', 'a'));
    for (const sn of ['a', 'b', 'c']) {
      const [prepared, kysely] = await both(
        (trx) => statements.findInstanceByUdi(trx, "P'ü", sn),
        (trx) => findInstanceByUdi(trx, "P'ü", sn),
      );
      expect(prepared, sn).toEqual(kysely);
    }
    const duplicate = await transactor
      .run((trx) => statements.insertInstance(trx, instance('i-again', 'a')))
      .catch((error: unknown) => error);
    expect(isUniqueViolation(duplicate)).toBe(true);
    expect(await findInstanceByUdi(database.db, "P'ü", 'a')).toEqual({ id: 'i-prepared', va_id: 'va' });
  });

  it('records events alike', async () => {
    const event = {
      at: NOW,
      actor: 'device:x',
      type: 'instance.registered' as const,
      accountId: 'sa',
      vaId: 'va',
      detail: { text: "quote ' ü \u2028", n: 1, nothing: null },
    };
    await transactor.run(async (trx) => {
      await statements.insertEvent(trx, { ...eventRow(event), id: 'e-prepared' });
      await recordEvent(trx, event);
    });
    const rows = await database.db.selectFrom('events').selectAll().where('actor', '=', 'device:x').execute();
    expect(rows).toHaveLength(2);
    const prepared = rows.find((r) => r.id === 'e-prepared')!;
    const kysely = rows.find((r) => r.id !== 'e-prepared')!;
    expect({ ...prepared, id: '' }).toEqual({ ...kysely, id: '' });
    expect(JSON.parse(prepared.detail)).toEqual(event.detail);
  });

  it.runIf(engine === 'postgres')('are named prepared statements on PostgreSQL', async () => {
    const names = await transactor.run(async (trx) => {
      await statements.findTokenByHash(trx, tokenHash('value t-ok'));
      await statements.findInstanceByUdi(trx, 'P', 'none');
      const { rows } = await sql<{ name: string }>`select name from pg_prepared_statements order by name`.execute(trx);
      return rows.map((r) => r.name);
    });
    expect(names).toEqual(expect.arrayContaining(['smartlic_find_token', 'smartlic_find_instance_by_udi']));
  });
});
