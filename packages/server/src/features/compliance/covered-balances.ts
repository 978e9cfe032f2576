import type { Kysely } from 'kysely';
import type { Database } from '../../storage/schema.js';
import type { TagTree } from '../tags/tag-tree.js';
import { allocate, type TagAllocation } from './allocation.js';
import { type NamedBalance, readBalances } from './balances.js';

/** A tag's balance once the hierarchy is applied: `surplus` counts what ancestors cover and what is lent to children. */
export interface CoveredBalance extends NamedBalance {
  surplus: number;
  allocation: TagAllocation;
}

/**
 * Balances of a VA with the license hierarchy applied (SPEC §2): for all tags, or for
 * `tags` and every tag of their families (siblings share a generic pool, so they are read
 * together). Outside the hierarchy this is one indexed read of the requested tags, as before.
 */
export async function readCoveredBalances(
  db: Kysely<Database>,
  tree: TagTree,
  vaId: string,
  now: number,
  tags?: readonly string[],
): Promise<Map<string, CoveredBalance>> {
  return coverBalances(tree, await readBalances(db, vaId, now, tags ? familiesOf(tree, tags) : undefined));
}

/** `tags` and every tag of their families (siblings share a generic pool, so they are read together). */
export function familiesOf(tree: TagTree, tags: readonly string[]): string[] {
  return [...new Set(tags.flatMap((t) => tree.family(t)))];
}

/** Applies the license hierarchy to balances read for whole families ({@link familiesOf}). */
export function coverBalances(tree: TagTree, balances: ReadonlyMap<string, NamedBalance>): Map<string, CoveredBalance> {
  const allocation = allocate({
    quantity: new Map([...balances].map(([tag, b]) => [tag, b.quantity])),
    inUse: new Map([...balances].map(([tag, b]) => [tag, b.inUse])),
    parentOf: tree.parentOf,
  });
  const result = new Map<string, CoveredBalance>();
  for (const [tag, b] of balances) {
    const a = allocation.get(tag)!;
    result.set(tag, { ...b, surplus: a.surplus, allocation: a });
  }
  return result;
}
