import { SmartlicError } from '@smartlic/protocol';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { insertAccount, insertVirtualAccount } from '../features/accounts/account-store.js';
import { insertPool, takeFromPool } from '../features/licenses/license-store.js';
import { describeEachEngine } from '../test-support/postgres.js';
import { openTestDatabase } from '../test-support/test-database.js';
import type { OpenDatabase } from './database.js';
import { isUniqueViolation, refuseDuplicate } from './unique-violation.js';

const ACCOUNT = { id: 'a1', name: 'Acme', domain: 'acme.example', created_at: 1 };

describeEachEngine('writes guarded by constraints', (engine) => {
  let database: OpenDatabase;
  let dispose: () => Promise<void>;
  beforeEach(async () => {
    ({ database, dispose } = await openTestDatabase(engine));
    await insertAccount(database.db, ACCOUNT);
  });
  afterEach(async () => dispose());

  it('answer the domain refusal when a unique constraint fires, with the engine error as its cause', async () => {
    const taken = () => new SmartlicError('CONFLICT', { message: 'domain taken' });
    const duplicate = refuseDuplicate(insertAccount(database.db, { ...ACCOUNT, id: 'a2' }), taken);
    await expect(duplicate).rejects.toThrow('domain taken');
    const error = await duplicate.catch((e: unknown) => e as Error);
    expect(isUniqueViolation(error.cause)).toBe(true);
    expect(await database.db.selectFrom('smart_accounts').select('id').execute()).toEqual([{ id: 'a1' }]);
  });

  it('pass other failures through unchanged', async () => {
    // A VA of an account that does not exist: a foreign key, not a duplicate.
    const orphan = insertVirtualAccount(database.db, { id: 'v1', account_id: 'nowhere', name: 'Lab', created_at: 1 });
    const error = await refuseDuplicate(orphan, () => new Error('not this')).catch((e: unknown) => e as Error);
    expect(error.message).not.toBe('not this');
    expect(isUniqueViolation(error)).toBe(false);
    expect(isUniqueViolation(new Error('UNIQUE constraint failed'))).toBe(false);
    expect(isUniqueViolation(undefined)).toBe(false);
  });

  it('take licenses from a pool only while it holds them, removing it when emptied', async () => {
    await insertVirtualAccount(database.db, { id: 'v1', account_id: 'a1', name: 'Lab', created_at: 1 });
    const pool = {
      id: 'p1',
      va_id: 'v1',
      tag: 'regid.2014-08.com.example.A',
      display_name: null,
      quantity: 3,
      type: 'perpetual' as const,
      starts_at: 0,
      ends_at: null,
      created_at: 1,
    };
    await insertPool(database.db, pool);
    const quantity = async () =>
      (await database.db.selectFrom('license_pools').select('quantity').where('id', '=', 'p1').executeTakeFirst())
        ?.quantity;
    expect(await takeFromPool(database.db, 'p1', 2)).toBe(true);
    expect(await quantity()).toBe(1);
    expect(await takeFromPool(database.db, 'p1', 2)).toBe(false);
    expect(await quantity()).toBe(1);
    expect(await takeFromPool(database.db, 'p1', 1)).toBe(true);
    expect(await quantity()).toBeUndefined();
    expect(await takeFromPool(database.db, 'p1', 1)).toBe(false);
  });
});
