import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.js';

/** What a process caches that another process's writes can make stale. */
export type ChangeTopic = 'tags';

/**
 * Tells every server process on one database that something it may cache has changed. A
 * writer announces a topic inside the committing transaction; each process's subscribers
 * hear of it once the transaction commits (never if it rolls back or is retried). While a
 * process cannot be sure to hear announcements (`live` false: its listening connection is
 * down), caches must not trust what they hold; subscribers are also called whenever the
 * feed (re)connects, since announcements made meanwhile were missed.
 */
export interface ChangeFeed {
  /** Whether announcements reach this process now. */
  readonly live: boolean;
  /** Inside the unit of work that makes the change. */
  announce(trx: Kysely<Database>, topic: ChangeTopic): Promise<void>;
  /** Calls `onChange` after every announcement of `topic`, and after the feed reconnects. */
  subscribe(topic: ChangeTopic, onChange: () => void): void;
  close(): Promise<void>;
}

/**
 * The feed of a process that is alone on its database (SQLite, or tests with one app): there
 * is no one else to tell, and the process invalidates its own caches after its own commits.
 */
export function createLocalChangeFeed(): ChangeFeed {
  return {
    live: true,
    announce: async () => undefined,
    subscribe: () => undefined,
    close: async () => undefined,
  };
}
