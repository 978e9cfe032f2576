import { z } from 'zod';
import { IsoDate } from '../../validation.js';

export const EventListQuery = z.object({
  type: z.string().trim().min(1).optional().describe('one type, or several separated by commas'),
  since: IsoDate.optional().describe('events at or after this time'),
  until: IsoDate.optional().describe('events before this time'),
  actor: z
    .string()
    .trim()
    .min(1)
    .optional()
    .describe('e.g. user:ann@example.com, key:bootstrap admin, device:<id>, system'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).optional().describe("the previous page's nextCursor"),
});

/** `GET /events` (owner only): every event, or with `scope=system` those of no Smart Account. */
export const AllEventsQuery = EventListQuery.extend({
  scope: z
    .enum(['all', 'system'])
    .default('all')
    .describe('system: only events of no Smart Account or VA, e.g. refusals of owner-only routes'),
});

export const EventView = z.object({
  id: z.string(),
  at: z.string(),
  actor: z.string(),
  type: z.string(),
  accountId: z.string().nullable(),
  vaId: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()),
});

export const EventPage = z.object({
  items: z.array(EventView).describe('newest first'),
  nextCursor: z.string().nullable().describe('pass as cursor for the next (older) page; null at the end'),
});
