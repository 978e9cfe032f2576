import { randomUUID } from 'node:crypto';
import { SmartlicError } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import { notFound } from '../../errors.js';
import type { Database } from '../../storage/schema.js';
import { badRequest } from '../../validation.js';
import { findVirtualAccount } from '../accounts/account-store.js';
import { readUsageTotals } from '../compliance/usage-store.js';
import { recordEvent } from '../events/event-recorder.js';
import { insertPool, readActivePools, setPoolQuantity } from './license-store.js';

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
 * transaction. Only the source's active, unused licenses of the tag itself may go
 * (active quantity − the tag's own in-use): a transfer never creates a shortage in the
 * source's direct demand. Pools are drawn soonest-ending first; each keeps its type, start
 * and end in the destination. Both VAs log the transfer.
 */
export async function transferLicenses(
  trx: Kysely<Database>,
  fromVaId: string,
  input: TransferInput,
  ctx: { now: number; actor: string },
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
  const quantity = pools.reduce((sum, p) => sum + Number(p.quantity), 0);
  const inUse = (await readUsageTotals(trx, fromVaId, [input.tag])).get(input.tag) ?? 0;
  const available = Math.max(0, quantity - inUse);
  if (input.count > available) {
    throw new SmartlicError('CONFLICT', {
      message: `Only ${available} unused license(s) of ${input.tag} can be transferred (active ${quantity}, in use ${inUse}).`,
      context: { available, quantity, inUse },
    });
  }
  let left = input.count;
  const created: TransferResult['pools'] = [];
  for (const pool of pools) {
    if (left === 0) break;
    const take = Math.min(left, Number(pool.quantity));
    left -= take;
    await setPoolQuantity(trx, pool.id, Number(pool.quantity) - take);
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
