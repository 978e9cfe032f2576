import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../storage/schema.js';
import { findVaWithAccount, type VaWithAccount } from './account-store.js';

/**
 * Names of Virtual Accounts and their Smart Accounts by VA id, for the device hot path: an
 * authorization tells the device where it is registered now (it may have been transferred).
 * Names never change once created, so entries need no invalidation, and a VA that is gone
 * has no instances left to ask. Bounded: the oldest entries go first.
 */
export class PlaceCache {
  private readonly places = new Map<string, VaWithAccount>();

  constructor(private readonly limit = 10_000) {}

  /** The VA with its account, read from `db` the first time; `undefined` if there is no such VA. */
  async get(db: Kysely<Database> | Transaction<Database>, vaId: string): Promise<VaWithAccount | undefined> {
    const known = this.places.get(vaId);
    if (known) return known;
    const place = await findVaWithAccount(db, vaId);
    if (!place) return undefined;
    if (this.places.size >= this.limit) {
      const oldest = this.places.keys().next().value;
      if (oldest !== undefined) this.places.delete(oldest);
    }
    this.places.set(vaId, place);
    return place;
  }
}
