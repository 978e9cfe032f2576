import type { Kysely } from 'kysely';
import { notFound } from '../../errors.js';
import type { Database, EventRow } from '../../storage/schema.js';
import { toIso } from '../../util/time.js';
import { badRequest } from '../../validation.js';
import { findAccount, findVirtualAccount } from '../accounts/account-store.js';
import { redactUrlCredentials } from '../webhooks/webhook-target.js';
import { listEvents } from './event-store.js';

export interface EventListInput {
  type?: string | undefined;
  since?: number | undefined;
  until?: number | undefined;
  actor?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

export interface EventView {
  id: string;
  at: string;
  actor: string;
  type: string;
  accountId: string | null;
  vaId: string | null;
  detail: Record<string, unknown>;
}

/** The event log, read per VA or per Smart Account, newest first, paged by a cursor. */
export function createEventService({ db }: { db: Kysely<Database> }) {
  const page = async (where: { vaId?: string; accountId?: string; systemOnly?: boolean }, input: EventListInput) => {
    const rows = await listEvents(db, {
      ...where,
      ...(input.type === undefined ? {} : { types: input.type.split(',').map((t) => t.trim()) }),
      ...(input.actor === undefined ? {} : { actor: input.actor }),
      ...(input.since === undefined ? {} : { since: input.since }),
      ...(input.until === undefined ? {} : { until: input.until }),
      ...(input.cursor === undefined ? {} : { before: decodeCursor(input.cursor) }),
      limit: input.limit + 1,
    });
    const items = rows.slice(0, input.limit);
    const last = items.at(-1);
    return {
      items: items.map(eventView),
      nextCursor: rows.length > input.limit && last ? encodeCursor(last) : null,
    };
  };
  return {
    async listVaEvents(vaId: string, input: EventListInput) {
      if (!(await findVirtualAccount(db, vaId))) throw notFound('Virtual account', vaId);
      return page({ vaId }, input);
    },
    async listAccountEvents(accountId: string, input: EventListInput) {
      if (!(await findAccount(db, accountId))) throw notFound('Smart account', accountId);
      return page({ accountId }, input);
    },
    /** Every event; with `scope: 'system'` only those of no Smart Account and no VA. */
    async listAllEvents(input: EventListInput & { scope: 'all' | 'system' }) {
      return page(input.scope === 'system' ? { systemOnly: true } : {}, input);
    },
  };
}

export type EventService = ReturnType<typeof createEventService>;

function eventView(row: EventRow): EventView {
  const detail = JSON.parse(row.detail) as Record<string, unknown>;
  // Webhook URLs recorded before credentials in them were refused.
  if (row.type.startsWith('webhook.') && typeof detail.url === 'string') detail.url = redactUrlCredentials(detail.url);
  return {
    id: row.id,
    at: toIso(row.at),
    actor: row.actor,
    type: row.type,
    accountId: row.account_id,
    vaId: row.va_id,
    detail,
  };
}

function encodeCursor(row: EventRow): string {
  return Buffer.from(`${row.at}:${row.id}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { at: number; id: string } {
  const match = /^(\d+):(.+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw badRequest({ cursor: ['is not a cursor this server gave'] });
  return { at: Number(match[1]), id: match[2]! };
}
