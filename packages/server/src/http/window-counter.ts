/** What counting one request said: allowed, or over the limit until `ttlMs` has passed. */
export type WindowCount = { allowed: true } | { allowed: false; ttlMs: number };

/**
 * Fixed-window request counters per key, in memory, synchronous: the algorithm of
 * `@fastify/rate-limit`'s local store (a window opens at a key's first request and lasts
 * `windowMs`; the request that makes the count exceed `max` is refused, and every one after it
 * until the window ends), without its promises. It counts the device messages, the server's most
 * frequent requests (issue 15). At most `maxKeys` keys are kept; the least recently counted is
 * forgotten first, as the plugin's LRU does.
 */
export class WindowCounter {
  private readonly windows = new Map<string, { count: number; startMs: number }>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly now: () => number,
    private readonly maxKeys = 5000,
  ) {}

  /** Counts one request of `key`. */
  hit(key: string): WindowCount {
    const now = this.now();
    let window = this.windows.get(key);
    if (window === undefined || window.startMs + this.windowMs <= now) {
      window = { count: 0, startMs: now };
    }
    window.count += 1;
    // Re-inserted: the Map's order is the order of last use.
    this.windows.delete(key);
    this.windows.set(key, window);
    if (this.windows.size > this.maxKeys) this.windows.delete(this.windows.keys().next().value as string);
    if (window.count <= this.max) return { allowed: true };
    return { allowed: false, ttlMs: window.startMs + this.windowMs - now };
  }
}
