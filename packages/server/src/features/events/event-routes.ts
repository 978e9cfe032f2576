import type { FastifyInstance } from 'fastify';
import { adminRoute } from '../../http/route-config.js';
import { parseInput } from '../../validation.js';
import { byAccount, byVa, target } from '../access/route-targets.js';
import { AllEventsQuery, EventListQuery, EventPage } from './event-schemas.js';
import type { EventService } from './event-service.js';

/** Admin routes of the event log. */
export function registerEventRoutes(app: FastifyInstance, events: EventService): void {
  app.get<{ Params: { vaId: string } }>(
    '/api/v1/virtual-accounts/:vaId/events',
    {
      config: adminRoute(
        'read',
        target.va(byVa()),
        { summary: "A VA's event log, newest first", query: EventListQuery, response: EventPage },
        'reading the event log',
      ),
    },
    async (request) => events.listVaEvents(request.params.vaId, parseInput(EventListQuery, request.query)),
  );

  app.get<{ Params: { accountId: string } }>(
    '/api/v1/accounts/:accountId/events',
    {
      config: adminRoute(
        'read',
        target.account(byAccount()),
        {
          summary: "A Smart Account's event log (all its VAs), newest first",
          query: EventListQuery,
          response: EventPage,
        },
        'reading the event log',
      ),
    },
    async (request) => events.listAccountEvents(request.params.accountId, parseInput(EventListQuery, request.query)),
  );
  // System-wide: events of no Smart Account (refusals of owner-only routes, tags…) are listed nowhere else.
  app.get(
    '/api/v1/events',
    {
      config: adminRoute(
        'read',
        target.system,
        {
          summary: 'The whole event log (every account, and events of none), newest first',
          query: AllEventsQuery,
          response: EventPage,
        },
        'reading the whole event log',
      ),
    },
    async (request) => events.listAllEvents(parseInput(AllEventsQuery, request.query)),
  );
}
