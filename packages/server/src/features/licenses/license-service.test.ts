import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ManualClock } from '@smartlic/protocol';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalChangeFeed } from '../../cluster/change-feed.js';
import { type OpenDatabase, openSqliteDatabase } from '../../storage/database.js';
import { migrateToLatest } from '../../storage/migrate.js';
import { createTransactor } from '../../storage/transactor.js';
import { makeTempDir } from '../../test-support/temp-dir.js';
import { INVALID_DATE } from '../../util/time.js';
import { createAccountService } from '../accounts/account-service.js';
import { TagTreeCache } from '../tags/tag-tree.js';
import { createLicenseService } from './license-service.js';

describe('license listing over a damaged row', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let database: OpenDatabase;
  let warnings: Array<Record<string, unknown>>;
  let service: ReturnType<typeof createLicenseService>;
  let vaId: string;
  const clock = new ManualClock();

  beforeEach(async () => {
    dir = makeTempDir();
    database = openSqliteDatabase(join(dir.path, 'smartlic.db'));
    await migrateToLatest(database.db);
    const transactor = createTransactor(database);
    warnings = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) warnings.push(JSON.parse(line));
        done();
      },
    });
    const logger = pino({ level: 'warn' }, sink);
    const accounts = createAccountService({ db: database.db, transactor, clock });
    const account = await accounts.createAccount({ name: 'Damaged', domain: 'damaged.example' });
    vaId = (await accounts.createVirtualAccount(account.id, { name: 'Lab' })).id;
    service = createLicenseService({
      db: database.db,
      transactor,
      clock,
      tags: new TagTreeCache(database.db, createLocalChangeFeed()),
      logger,
    });
  });
  afterEach(async () => {
    await database.close();
    dir.remove();
  });

  const plantPool = (tag: string, endsAt: number) =>
    database.db
      .insertInto('license_pools')
      .values({
        id: randomUUID(),
        va_id: vaId,
        tag,
        display_name: null,
        quantity: 2,
        type: 'term',
        starts_at: clock.now(),
        ends_at: endsAt,
        created_at: clock.now(),
      })
      .execute();

  it('shows an end beyond the range of a date as "invalid date", keeps the other rows, and warns once', async () => {
    await plantPool('regid.beyond', 8_640_000_000_000_001);
    await plantPool('regid.fine', clock.now() + 10 * 86_400_000);
    for (let i = 0; i < 3; i++) {
      const rows = await service.listLicenses(vaId);
      expect(rows.map((r) => [r.tag, r.quantity, r.expiresAt])).toEqual([
        ['regid.beyond', 2, INVALID_DATE],
        ['regid.fine', 2, new Date(clock.now() + 10 * 86_400_000).toISOString()],
      ]);
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, vaId, tag: 'regid.beyond', endsAt: 8_640_000_000_000_001 });
  });
});
