import { DEFAULT_TIMERS } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import { notFound } from '../../errors.js';
import type { Database } from '../../storage/schema.js';
import { badRequest } from '../../validation.js';
import { findVirtualAccount } from '../accounts/account-store.js';
import { uncountSilent } from '../compliance/silent-usage-store.js';
import { readInstanceUsage, releaseInstanceUsage, replaceInstanceUsage } from '../compliance/usage-store.js';
import { recordEvent } from '../events/event-recorder.js';
import { deleteInstance } from './instance-store.js';

/** Alerts an instance shows from its silence (SPEC §5: 30-day alert, 90-day release). */
export function silenceAlerts(lastContactAt: number, now: number): string[] {
  const alert = silenceAlert(lastContactAt, now);
  return alert === undefined ? [] : [alert];
}

/** The last contact at or before which an instance shows a silence alert at `now` (30 days before it). */
export function silenceAlertFrom(now: number): number {
  return now - DEFAULT_TIMERS.silentAlertMs;
}

/** The one alert of {@link silenceAlerts}, or undefined when the instance has been heard from within 30 days. */
export function silenceAlert(lastContactAt: number, now: number): string | undefined {
  const silent = now - lastContactAt;
  if (silent >= DEFAULT_TIMERS.silentReleaseMs) return 'No contact for 90 days: usage released';
  if (silent >= DEFAULT_TIMERS.silentAlertMs) return 'No contact for 30 days';
  return undefined;
}

interface Ctx {
  now: number;
  actor: string;
}

async function findOwned(trx: Kysely<Database>, instanceId: string) {
  const row = await trx
    .selectFrom('instances as i')
    .innerJoin('virtual_accounts as va', 'va.id', 'i.va_id')
    .select(['i.id', 'i.va_id', 'i.pid', 'i.sn', 'i.last_contact_at', 'va.account_id'])
    .where('i.id', '=', instanceId)
    .executeTakeFirst();
  if (!row) throw notFound('Product instance', instanceId);
  return row;
}

/**
 * Removes an instance in the caller's transaction: its usage goes back to its VA's pool,
 * the row is deleted, the event logged. Its ID certificate no longer authenticates anything.
 */
export async function removeInstance(
  trx: Kysely<Database>,
  instanceId: string,
  ctx: Ctx & { reason: string },
): Promise<{ id: string; vaId: string }> {
  const row = await findOwned(trx, instanceId);
  const usage = await readInstanceUsage(trx, row.id);
  await releaseInstanceUsage(trx, { instanceId: row.id, vaId: row.va_id });
  await deleteInstance(trx, row.id);
  await recordEvent(trx, {
    at: ctx.now,
    actor: ctx.actor,
    type: 'instance.removed',
    accountId: row.account_id,
    vaId: row.va_id,
    detail: {
      instanceId: row.id,
      pid: row.pid,
      sn: row.sn,
      reason: ctx.reason,
      released: usage.map((u) => ({ tag: u.tag, count: u.count })),
    },
  });
  return { id: row.id, vaId: row.va_id };
}

/**
 * Moves an instance, with its usage, to another VA of the same Smart Account, in the
 * caller's transaction. Both VAs log it.
 */
export async function transferInstance(
  trx: Kysely<Database>,
  instanceId: string,
  toVaId: string,
  ctx: Ctx,
): Promise<{ id: string; fromVaId: string; toVaId: string }> {
  const row = await findOwned(trx, instanceId);
  const to = await findVirtualAccount(trx, toVaId);
  if (!to) throw notFound('Virtual account', toVaId);
  if (to.id === row.va_id) throw badRequest({ toVaId: ['the instance is already in this Virtual Account'] });
  if (to.account_id !== row.account_id) {
    throw badRequest({ toVaId: ['must be a Virtual Account of the same Smart Account'] });
  }
  await uncountSilent(trx, row.id);
  const usage = await readInstanceUsage(trx, row.id);
  // Out of the old VA's totals, into the new one's: same rows, moved totals.
  await replaceInstanceUsage(trx, { instanceId: row.id, vaId: row.va_id }, usage, []);
  await trx.updateTable('instances').set({ va_id: to.id }).where('id', '=', row.id).execute();
  await replaceInstanceUsage(trx, { instanceId: row.id, vaId: to.id }, [], usage);
  const detail = {
    instanceId: row.id,
    pid: row.pid,
    sn: row.sn,
    fromVaId: row.va_id,
    toVaId: to.id,
    usage: usage.map((u) => ({ tag: u.tag, count: u.count })),
  };
  await recordEvent(trx, {
    at: ctx.now,
    actor: ctx.actor,
    type: 'instance.transferred',
    accountId: row.account_id,
    vaId: row.va_id,
    detail: { ...detail, direction: 'out' },
  });
  await recordEvent(trx, {
    at: ctx.now,
    actor: ctx.actor,
    type: 'instance.transferred',
    accountId: to.account_id,
    vaId: to.id,
    detail: { ...detail, direction: 'in' },
  });
  return { id: row.id, fromVaId: row.va_id, toVaId: to.id };
}
