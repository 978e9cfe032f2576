import { ManualClock, MINUTE } from '@smartlic/protocol';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { OpenDatabase } from '../../storage/database.js';
import { createTransactor } from '../../storage/transactor.js';
import { describeEachEngine } from '../../test-support/postgres.js';
import { openTestDatabase } from '../../test-support/test-database.js';
import { OWNER_SIGN_IN_NAME } from './bootstrap-owner-password.js';
import { hashPassword } from './password.js';
import { createSessionService } from './session-service.js';
import { upsertOwnerCredential } from './session-store.js';

describeEachEngine('session service', (engine) => {
  let database: OpenDatabase;
  let dispose: () => Promise<void>;
  const clock = new ManualClock();

  beforeEach(async () => {
    ({ database, dispose } = await openTestDatabase(engine));
    const hash = await hashPassword('owner password 1', { N: 1024, r: 8, p: 1 });
    await upsertOwnerCredential(database.db, {
      name: OWNER_SIGN_IN_NAME,
      password_hash: hash,
      created_at: clock.now(),
      updated_at: clock.now(),
    });
  });
  afterEach(() => dispose());

  it('purges ended sessions (idle or past their lifetime) and keeps live ones', async () => {
    const sessions = createSessionService({
      db: database.db,
      transactor: createTransactor(database),
      clock,
      idleTimeoutMs: 30 * MINUTE,
    });
    const signIn = () => sessions.signIn({ email: 'admin', password: 'owner password 1' }, { address: '127.0.0.1' });
    const idle = await signIn();
    clock.advance(20 * MINUTE);
    const busy = await signIn();
    clock.advance(20 * MINUTE);
    // idle: unused for 40 minutes; busy: 20 minutes.
    expect(await sessions.purgeEnded(clock.now())).toBe(1);
    expect(await sessions.resume(idle.token)).toBeUndefined();
    expect(await sessions.resume(busy.token)).toBeDefined();
    // Used every 20 minutes until 12 h after sign-in, then 25 minutes later: not idle, but past its lifetime.
    for (let i = 0; i < 34; i++) {
      clock.advance(20 * MINUTE);
      expect(await sessions.resume(busy.token)).toBeDefined();
    }
    clock.advance(25 * MINUTE);
    expect(await sessions.purgeEnded(clock.now())).toBe(1);
    const left = await database.db.selectFrom('portal_sessions').select('id').execute();
    expect(left).toEqual([]);
  });
});
