import type { Kysely } from 'kysely';
import type { ChangeFeed } from '../../cluster/change-feed.js';
import type { Database } from '../../storage/schema.js';
import { ancestors } from '../compliance/allocation.js';

/** The tag catalogue as the hot path needs it: parent of a tag, and the family a tag belongs to. */
export interface TagTree {
  parentOf(tag: string): string | undefined;
  displayName(tag: string): string | undefined;
  /** Every tag related to `tag` (same root), including itself; just `[tag]` outside the hierarchy. */
  family(tag: string): string[];
}

/** Builds a {@link TagTree} from catalogue rows. */
export function buildTagTree(
  rows: ReadonlyArray<{ tag: string; parent_tag: string | null; display_name: string | null }>,
): TagTree {
  const parents = new Map<string, string>();
  const names = new Map<string, string>();
  for (const row of rows) {
    if (row.parent_tag) parents.set(row.tag, row.parent_tag);
    if (row.display_name) names.set(row.tag, row.display_name);
  }
  const parentOf = (tag: string) => parents.get(tag);
  const families = new Map<string, string[]>();
  for (const tag of new Set([...parents.keys(), ...parents.values()])) {
    const chain = ancestors(tag, parentOf);
    const root = chain.at(-1) ?? tag;
    const list = families.get(root) ?? [];
    list.push(tag);
    families.set(root, list);
  }
  const familyOf = new Map<string, string[]>();
  for (const list of families.values()) {
    // Sorted before the loop: sorting the array being iterated would skip some of its tags.
    list.sort();
    for (const tag of list) familyOf.set(tag, list);
  }
  return {
    parentOf,
    displayName: (tag) => names.get(tag),
    family: (tag) => familyOf.get(tag) ?? [tag],
  };
}

/** Reads the catalogue into a {@link TagTree} (in a transaction when the answer must match its writes). */
export async function readTagTree(db: Kysely<Database>): Promise<TagTree> {
  const rows = await db.selectFrom('tags').select(['tag', 'parent_tag', 'display_name']).execute();
  return buildTagTree(rows);
}

/**
 * The catalogue, loaded once and kept in memory for the authorize path. This process
 * invalidates it after its own changes (`tag define`); changes made by another server process
 * on the same database arrive through the {@link ChangeFeed}. While the feed is not live (its
 * connection is down, so an announcement could be missed) every `get` reads the catalogue
 * afresh: a stale hierarchy would judge compliance wrongly.
 */
export class TagTreeCache {
  #tree: Promise<TagTree> | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly changes: ChangeFeed,
  ) {
    changes.subscribe('tags', () => this.invalidate());
  }

  get(): Promise<TagTree> {
    if (!this.changes.live) return this.#load();
    this.#tree ??= this.#load().catch((error: unknown) => {
      this.#tree = undefined;
      throw error;
    });
    return this.#tree;
  }

  invalidate(): void {
    this.#tree = undefined;
  }

  #load(): Promise<TagTree> {
    return readTagTree(this.db);
  }
}
