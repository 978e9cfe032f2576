import { randomUUID } from 'node:crypto';
import { SmartlicError } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import { notFound } from '../../errors.js';
import type { Database } from '../../storage/schema.js';
import { badRequest } from '../../validation.js';
import { findVirtualAccount } from '../accounts/account-store.js';
import type { Coverage } from '../compliance/allocation.js';
import { type CoveredBalance, readCoveredBalances } from '../compliance/covered-balances.js';
import { recordEvent } from '../events/event-recorder.js';
import type { TagTree } from '../tags/tag-tree.js';
import { insertPool, readActivePools, takeFromPool } from './license-store.js';

export interface TransferInput {
  tag: string;
  count: number;
  toVaId: string;
}

export interface TransferResult {
  tag: string;
  count: number;
  fromVaId: string;
  toVaId: string;
  /** The pools created in the destination, one per source pool drawn from. */
  pools: Array<{ id: string; quantity: number; type: string; endsAt: number | null }>;
}

/**
 * Moves `count` licenses of a tag between two VAs of one Smart Account, in the caller's
 * transaction. Only what the source's allocation leaves free may go (see
 * {@link transferable}): a transfer never uncovers demand the source covers now, neither the
 * tag's own nor that of child tags its pools cover. Pools are drawn soonest-ending first;
 * each keeps its type, start and end in the destination. Both VAs log the transfer.
 */
export async function transferLicenses(
  trx: Kysely<Database>,
  fromVaId: string,
  input: TransferInput,
  ctx: { now: number; actor: string; tree: TagTree },
): Promise<TransferResult> {
  const from = await findVirtualAccount(trx, fromVaId);
  if (!from) throw notFound('Virtual account', fromVaId);
  const to = await findVirtualAccount(trx, input.toVaId);
  if (!to) throw notFound('Virtual account', input.toVaId);
  if (to.id === from.id) throw badRequest({ toVaId: ['must be another Virtual Account'] });
  if (to.account_id !== from.account_id) {
    throw badRequest({ toVaId: ['must be a Virtual Account of the same Smart Account'] });
  }
  const pools = await readActivePools(trx, fromVaId, ctx.now, input.tag);
  const balances = await readCoveredBalances(trx, ctx.tree, fromVaId, ctx.now, [input.tag]);
  const free = transferable(input.tag, balances);
  if (input.count > free.available) {
    throw new SmartlicError('CONFLICT', {
      message: `Only ${free.available} unused license(s) of ${input.tag} can be transferred: ${describe(input.tag, free)}.`,
      context: { ...free },
    });
  }
  let left = input.count;
  const created: TransferResult['pools'] = [];
  for (const pool of pools) {
    if (left === 0) break;
    const take = Math.min(left, Number(pool.quantity));
    left -= take;
    if (!(await takeFromPool(trx, pool.id, take))) {
      throw new SmartlicError('CONFLICT', {
        message: `The licenses of ${input.tag} changed during the transfer; try again.`,
      });
    }
    const id = randomUUID();
    await insertPool(trx, { ...pool, id, va_id: to.id, quantity: take, created_at: ctx.now });
    created.push({ id, quantity: take, type: pool.type, endsAt: pool.ends_at === null ? null : Number(pool.ends_at) });
  }
  const detail = { tag: input.tag, count: input.count, fromVaId, toVaId: to.id };
  await recordEvent(trx, {
    at: ctx.now,
    actor: ctx.actor,
    type: 'license.transferred',
    accountId: from.account_id,
    vaId: fromVaId,
    detail: { ...detail, direction: 'out' },
  });
  await recordEvent(trx, {
    at: ctx.now,
    actor: ctx.actor,
    type: 'license.transferred',
    accountId: to.account_id,
    vaId: to.id,
    detail: { ...detail, direction: 'in' },
  });
  return { tag: input.tag, count: input.count, fromVaId, toVaId: to.id, pools: created };
}

/** What a tag's pools in a VA hold, what covers demand, and what is left free to move. */
export interface Transferable {
  /** Licenses of the tag's own active pools. */
  quantity: number;
  /** The tag's own demand covered by its pools. */
  inUse: number;
  /** Licenses of the tag lent to descendants' demand, per descendant. */
  lentTo: Coverage[];
  /** What may leave the VA without uncovering any demand. */
  available: number;
}

/**
 * How many licenses of `tag` can leave a VA, by the allocation authorization uses: what the
 * tag's pools have left once its own demand and every descendant's demand it covers are
 * served. The allocator takes from a pool only what demand needs, so taking at most this
 * away leaves every allocation as it was.
 */
export function transferable(tag: string, balances: ReadonlyMap<string, CoveredBalance>): Transferable {
  const own = balances.get(tag)?.allocation;
  const lentTo: Coverage[] = [];
  for (const [child, balance] of balances) {
    const count = balance.allocation.coveredByParent.find((c) => c.tag === tag)?.count ?? 0;
    if (count > 0) lentTo.push({ tag: child, count });
  }
  lentTo.sort((a, b) => b.count - a.count || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  return {
    quantity: own?.quantity ?? 0,
    inUse: own?.coveredByOwn ?? 0,
    lentTo,
    available: Math.max(0, own?.surplus ?? 0),
  };
}

function describe(tag: string, free: Transferable): string {
  const parts = [`${free.quantity} in the pool`];
  if (free.inUse > 0) parts.push(`${free.inUse} in use by ${tag}`);
  for (const lent of free.lentTo) parts.push(`${lent.count} covering usage of ${lent.tag}`);
  parts.push(`${free.available} can be transferred`);
  return parts.join(', ');
}
