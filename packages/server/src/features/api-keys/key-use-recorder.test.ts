import { ManualClock, MINUTE } from '@smartlic/protocol';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { OpenDatabase } from '../../storage/database.js';
import { createTransactor, type Transactor } from '../../storage/transactor.js';
import { describeEachEngine } from '../../test-support/postgres.js';
import { openTestDatabase } from '../../test-support/test-database.js';
import { generateApiKey, hashApiKey } from './api-key.js';
import { createApiKeyService } from './api-key-service.js';
import { insertApiKey } from './api-key-store.js';
import { createKeyUseRecorder } from './key-use-recorder.js';

describeEachEngine('API key uses off the request path', (engine) => {
  let database: OpenDatabase;
  let dispose: () => Promise<void>;
  let transactor: Transactor;
  const clock = new ManualClock();
  const key = generateApiKey();
  const id = 'key-1';

  beforeEach(async () => {
    ({ database, dispose } = await openTestDatabase(engine));
    transactor = createTransactor(database);
    await insertApiKey(database.db, {
      id,
      hash: hashApiKey(key),
      name: 'owner',
      role: 'owner',
      created_at: clock.now(),
      last_used_at: null,
      revoked_at: null,
      user_id: null,
    });
  });
  afterEach(async () => {
    await transactor.drain();
    await dispose();
  });

  const storedUse = async () =>
    (await database.db.selectFrom('api_keys').select('last_used_at').where('id', '=', id).executeTakeFirstOrThrow())
      .last_used_at;

  it('authenticates without writing, and the flush stores the use to the minute', async () => {
    const keyUses = createKeyUseRecorder({ transactor });
    const apiKeys = createApiKeyService({ db: database.db, clock, keyUses });
    let commits = 0;
    const counted: Transactor = {
      ...transactor,
      run: (work, options) => {
        commits++;
        return transactor.run(work, options);
      },
    };
    const countingUses = createKeyUseRecorder({ transactor: counted });
    const countingKeys = createApiKeyService({ db: database.db, clock, keyUses: countingUses });

    const first = clock.now();
    expect((await apiKeys.authenticate(`Bearer ${key}`)).keyId).toBe(id);
    expect(await storedUse()).toBeNull();
    expect(keyUses.pendingOf(id)).toBe(first);
    await keyUses.flush();
    expect(await storedUse()).toBe(first);
    expect(keyUses.pendingOf(id)).toBeUndefined();

    // Within the minute nothing is noted; a minute later it is.
    clock.advance(MINUTE - 1);
    await apiKeys.authenticate(`Bearer ${key}`);
    expect(keyUses.pendingOf(id)).toBeUndefined();
    clock.advance(1);
    await apiKeys.authenticate(`Bearer ${key}`);
    expect(keyUses.pendingOf(id)).toBe(clock.now());

    // Authentication itself never opens a transaction.
    await countingKeys.authenticate(`Bearer ${key}`);
    expect(commits).toBe(0);
    await countingUses.stop();
    expect(commits).toBe(1);
    expect(await storedUse()).toBe(clock.now());
  });

  it('keeps the later use when flushes come in any order, and retries a failed flush', async () => {
    const later = createKeyUseRecorder({ transactor });
    const earlier = createKeyUseRecorder({ transactor });
    later.note(id, 5 * MINUTE);
    earlier.note(id, 2 * MINUTE);
    await later.flush();
    await earlier.flush();
    expect(await storedUse()).toBe(5 * MINUTE);

    let fail = true;
    const flaky: Transactor = {
      ...transactor,
      run: (work, options) => (fail ? Promise.reject(new Error('disk full')) : transactor.run(work, options)),
    };
    const recorder = createKeyUseRecorder({ transactor: flaky });
    recorder.note(id, 9 * MINUTE);
    await expect(recorder.flush()).rejects.toThrow('disk full');
    expect(recorder.pendingOf(id)).toBe(9 * MINUTE);
    fail = false;
    await recorder.flush();
    expect(await storedUse()).toBe(9 * MINUTE);
    expect(recorder.pendingOf(id)).toBeUndefined();
  });
});
