import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLocalChangeFeed } from '../cluster/change-feed.js';
import { TagTreeCache } from '../features/tags/tag-tree.js';
import { describeEachEngine } from '../test-support/postgres.js';
import { openTestDatabase } from '../test-support/test-database.js';
import { warmUp } from './warm-up.js';

function capturedLogger(): { logger: pino.Logger; lines: Array<{ msg: string; ms?: number }> } {
  const lines: Array<{ msg: string; ms?: number }> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describeEachEngine('warm-up before listening', (engine) => {
  let handle: Awaited<ReturnType<typeof openTestDatabase>>;

  beforeAll(async () => {
    handle = await openTestDatabase(engine);
    const { db } = handle.database;
    await db.insertInto('smart_accounts').values({ id: 'sa', name: 'A', domain: 'a.example', created_at: 0 }).execute();
    await db.insertInto('virtual_accounts').values({ id: 'va', account_id: 'sa', name: 'V', created_at: 0 }).execute();
  });
  afterAll(async () => {
    await handle.dispose();
  });

  it("loads the tag catalogue and reads one VA's license list", async () => {
    const { db } = handle.database;
    const asked: string[] = [];
    const { logger, lines } = capturedLogger();
    await warmUp({
      db,
      tags: new TagTreeCache(db, createLocalChangeFeed()),
      licenses: {
        listLicenses: async (vaId) => {
          asked.push(vaId);
          return [];
        },
      },
      logger,
    });
    expect(asked).toEqual(['va']);
    expect(lines.map((l) => l.msg)).toEqual(['warmed up']);
  });

  it('lets a failure pass with a DEBUG line (the first request does the work instead)', async () => {
    const { db } = handle.database;
    const { logger, lines } = capturedLogger();
    await expect(
      warmUp({
        db,
        tags: new TagTreeCache(db, createLocalChangeFeed()),
        licenses: {
          listLicenses: async () => {
            throw new Error('no');
          },
        },
        logger,
      }),
    ).resolves.toBeUndefined();
    expect(lines.map((l) => l.msg)).toEqual([
      'warm-up before listening failed (the first request does the work instead)',
    ]);
  });
});
