import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import type { Logger } from '../logger.js';
import type { Database } from '../storage/schema.js';
import type { ChangeFeed, ChangeTopic } from './change-feed.js';

/** The PostgreSQL channel every smartlic process of one database listens on. */
export const CHANGE_CHANNEL = 'smartlic_changes';
/** `application_name` of the listening connection (to find it in `pg_stat_activity`). */
export const LISTENER_APPLICATION_NAME = 'smartlic-changes';
const TOPICS: ReadonlySet<string> = new Set<ChangeTopic>(['tags']);
const MAX_RECONNECT_DELAY_MS = 5_000;

/** Options of {@link openPostgresChangeFeed}. */
export interface PostgresChangeFeedOptions {
  logger: Logger;
  /** First pause before reconnecting, doubled up to 5 s; default 100 ms. */
  reconnectDelayMs?: number;
}

/**
 * A {@link ChangeFeed} over LISTEN/NOTIFY: `announce` runs `pg_notify` in the writer's
 * transaction, which PostgreSQL delivers to every listening connection at commit (and drops
 * on rollback, so a retried unit announces once). Each process keeps one connection of its own
 * listening; when it drops, the feed is not `live` (caches read through) and reconnects with
 * growing pauses; once listening again it calls every subscriber, since it may have missed
 * announcements.
 */
export async function openPostgresChangeFeed(url: string, options: PostgresChangeFeedOptions): Promise<ChangeFeed> {
  const { logger } = options;
  const firstDelay = options.reconnectDelayMs ?? 100;
  const subscribers = new Map<ChangeTopic, Array<() => void>>();
  let client: pg.Client | undefined;
  let live = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  const notifyAll = () => {
    for (const list of subscribers.values()) for (const onChange of list) onChange();
  };

  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: url, application_name: LISTENER_APPLICATION_NAME });
    next.on('notification', (message) => {
      if (message.channel !== CHANGE_CHANNEL || !message.payload || !TOPICS.has(message.payload)) return;
      for (const onChange of subscribers.get(message.payload as ChangeTopic) ?? []) onChange();
    });
    next.on('error', () => lost(next));
    next.on('end', () => lost(next));
    try {
      await next.connect();
      await next.query(`listen ${CHANGE_CHANNEL}`);
    } catch (error) {
      await next.end().catch(() => undefined);
      throw error;
    }
    if (closed) {
      await next.end().catch(() => undefined);
      return;
    }
    client = next;
    live = true;
    // Whatever was announced while no one listened.
    notifyAll();
  };

  const lost = (which: pg.Client) => {
    if (which !== client) return;
    client = undefined;
    live = false;
    notifyAll();
    which.end().catch(() => undefined);
    if (!closed) {
      logger.warn('Lost the connection that listens for other processes\u2019 changes; reconnecting');
      reconnect(firstDelay);
    }
  };

  const reconnect = (delay: number) => {
    timer = setTimeout(() => {
      connect().catch(() => {
        if (!closed) reconnect(Math.min(delay * 2, MAX_RECONNECT_DELAY_MS));
      });
    }, delay);
    timer.unref();
  };

  await connect();

  return {
    get live() {
      return live;
    },
    async announce(trx: Kysely<Database>, topic: ChangeTopic) {
      await sql`select pg_notify(${CHANGE_CHANNEL}, ${topic})`.execute(trx);
    },
    subscribe(topic, onChange) {
      const list = subscribers.get(topic) ?? [];
      list.push(onChange);
      subscribers.set(topic, list);
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      live = false;
      const current = client;
      client = undefined;
      await current?.end().catch(() => undefined);
    },
  };
}
