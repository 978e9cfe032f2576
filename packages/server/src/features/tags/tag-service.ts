import type { Clock } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import type { ChangeFeed } from '../../cluster/change-feed.js';
import type { Database } from '../../storage/schema.js';
import type { Transactor } from '../../storage/transactor.js';
import { badRequest } from '../../validation.js';
import { recordEvent } from '../events/event-recorder.js';
import type { TagTreeCache } from './tag-tree.js';

/** A tag of the catalogue. */
export interface TagView {
  tag: string;
  name: string | null;
  parent: string | null;
}

export interface DefineTagInput {
  tag: string;
  name?: string | undefined;
  /** The parent (generic) tag; `null` removes the parent, undefined keeps it. */
  parent?: string | null | undefined;
}

export interface TagServiceDeps {
  db: Kysely<Database>;
  transactor: Transactor;
  clock: Clock;
  cache: TagTreeCache;
  /** Tells the other server processes on the database to forget their catalogue. */
  changes: ChangeFeed;
}

/** The global tag catalogue and its hierarchy (SPEC §2): a tag may name a parent tag. */
export function createTagService({ db, transactor, clock, cache, changes }: TagServiceDeps) {
  return {
    /** Defines or updates a tag; refuses a parent that would make a cycle. */
    async defineTag(input: DefineTagInput, actor: string): Promise<TagView> {
      const now = clock.now();
      const view = await transactor.run((trx) => writeTag(trx, input, { now, actor, changes }));
      cache.invalidate();
      return view;
    },

    async listTags(): Promise<TagView[]> {
      const rows = await db.selectFrom('tags').selectAll().orderBy('tag').execute();
      return rows.map((r) => ({ tag: r.tag, name: r.display_name, parent: r.parent_tag }));
    },
  };
}

export type TagService = ReturnType<typeof createTagService>;

/**
 * Defines or updates a tag inside `trx` (refusing a parent that would make a cycle), records
 * `tag.defined` and announces the change; the caller invalidates its {@link TagTreeCache} after
 * the commit. Shared by `defineTag` and adding a license pool with a parent.
 */
export async function writeTag(
  trx: Kysely<Database>,
  input: DefineTagInput,
  { now, actor, changes }: { now: number; actor: string; changes: ChangeFeed },
): Promise<TagView> {
  const existing = await trx.selectFrom('tags').selectAll().where('tag', '=', input.tag).executeTakeFirst();
  const parent = input.parent === undefined ? (existing?.parent_tag ?? null) : input.parent;
  if (parent !== null) await refuseCycle(trx, input.tag, parent);
  const name = input.name ?? existing?.display_name ?? null;
  if (existing) {
    await trx
      .updateTable('tags')
      .set({ display_name: name, parent_tag: parent, updated_at: now })
      .where('tag', '=', input.tag)
      .execute();
  } else {
    await trx
      .insertInto('tags')
      .values({ tag: input.tag, display_name: name, parent_tag: parent, created_at: now, updated_at: now })
      .execute();
  }
  if (parent !== null) {
    await trx
      .insertInto('tags')
      .values({ tag: parent, display_name: null, parent_tag: null, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('tag').doNothing())
      .execute();
  }
  await recordEvent(trx, { at: now, actor, type: 'tag.defined', detail: { tag: input.tag, name, parent } });
  await changes.announce(trx, 'tags');
  return { tag: input.tag, name, parent };
}

async function refuseCycle(trx: Kysely<Database>, tag: string, parent: string): Promise<void> {
  const seen = new Set<string>();
  for (let p: string | null = parent; p !== null; ) {
    if (p === tag) throw badRequest({ parent: [`${parent} descends from ${tag}: a tag cannot be its own ancestor`] });
    if (seen.has(p)) return;
    seen.add(p);
    const row = await trx.selectFrom('tags').select('parent_tag').where('tag', '=', p).executeTakeFirst();
    p = row?.parent_tag ?? null;
  }
}
