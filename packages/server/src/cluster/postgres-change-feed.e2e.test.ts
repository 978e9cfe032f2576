import pg from 'pg';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OpenDatabase } from '../storage/database.js';
import { openPostgresDatabase } from '../storage/postgres.js';
import { acquireTestDatabase, type LeasedDatabase, postgresUrl } from '../test-support/postgres.js';
import type { ChangeFeed } from './change-feed.js';
import { LISTENER_APPLICATION_NAME, openPostgresChangeFeed } from './postgres-change-feed.js';

const logger = pino({ level: 'silent' });

/** Waits (real time: the notifications cross a real connection) until `check` holds, for up to 5 s. */
async function eventually(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.skipIf(!postgresUrl())('the PostgreSQL change feed', () => {
  let database: OpenDatabase;
  let leased: LeasedDatabase;
  const feeds: ChangeFeed[] = [];
  beforeEach(async () => {
    leased = await acquireTestDatabase();
    database = await openPostgresDatabase(leased.url);
  });
  afterEach(async () => {
    for (const feed of feeds.splice(0)) await feed.close();
    await database.close();
    await leased.release();
  });

  const open = async () => {
    const feed = await openPostgresChangeFeed(leased.url, { logger, reconnectDelayMs: 20 });
    feeds.push(feed);
    return feed;
  };

  it('tells every process of a committed change, and no one of a rolled-back one', async () => {
    const [writer, other] = [await open(), await open()];
    let heard = 0;
    other.subscribe('tags', () => heard++);
    expect(other.live).toBe(true);
    await database.db
      .transaction()
      .execute(async (trx) => {
        await writer.announce(trx, 'tags');
        throw new Error('rolled back');
      })
      .catch(() => undefined);
    await database.db.transaction().execute((trx) => writer.announce(trx, 'tags'));
    await eventually(() => heard === 1);
    // Nothing more arrives: the rolled-back announcement was dropped.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(heard).toBe(1);
  });

  it('is not live while its connection is down, reconnects, and then calls its subscribers', async () => {
    const feed = await open();
    let heard = 0;
    feed.subscribe('tags', () => heard++);
    const client = new pg.Client({ connectionString: leased.url });
    await client.connect();
    try {
      await client.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [
        LISTENER_APPLICATION_NAME,
      ]);
    } finally {
      await client.end();
    }
    await eventually(() => !feed.live);
    await eventually(() => feed.live);
    // Called when the connection was lost and again once listening: announcements may have been missed.
    expect(heard).toBeGreaterThanOrEqual(2);
    const before = heard;
    await database.db.transaction().execute((trx) => feed.announce(trx, 'tags'));
    await eventually(() => heard === before + 1);
  });

  it('stops listening when closed', async () => {
    const feed = await open();
    await feed.close();
    expect(feed.live).toBe(false);
  });
});
