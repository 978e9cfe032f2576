import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { adminRoute } from '../../http/route-config.js';
import { parseInput } from '../../validation.js';
import { byVa, target } from '../access/route-targets.js';
import type { ForecastService } from './forecast-service.js';

const UsageHistoryQuery = z.object({
  days: z.coerce.number().int().min(1).max(366).default(30).describe('how many days back, today included'),
});

const UsagePointView = z.object({ day: z.string(), quantity: z.number(), inUse: z.number() });
const UsageHistoryView = z.array(z.object({ tag: z.string(), name: z.string(), points: z.array(UsagePointView) }));
const ForecastView = z.array(
  z.object({
    tag: z.string(),
    name: z.string(),
    quantity: z.number(),
    inUse: z.number(),
    trendPerDay: z.number().describe('licenses a day, least squares over the last 30 daily snapshots'),
    shortageDate: z
      .string()
      .nullable()
      .describe('the day the pool is projected to run short; today when it is; null when use is flat or falling'),
    basis: z.string().describe('e.g. "30 days of snapshots"'),
  }),
);

/** Usage over time and the compliance forecast of a VA (the portal's charts). */
export function registerForecastRoutes(app: FastifyInstance, forecasts: ForecastService): void {
  app.get<{ Params: { vaId: string } }>(
    '/api/v1/vas/:vaId/usage-history',
    {
      config: adminRoute('read', target.va(byVa()), {
        summary: 'Quantity and in use per tag and day, from the daily usage snapshots',
        query: UsageHistoryQuery,
        response: UsageHistoryView,
      }),
    },
    async (request) => {
      const query = parseInput(UsageHistoryQuery, request.query ?? {});
      return forecasts.usageHistory(request.params.vaId, query.days);
    },
  );

  app.get<{ Params: { vaId: string } }>(
    '/api/v1/vas/:vaId/forecast',
    {
      config: adminRoute('read', target.va(byVa()), {
        summary: 'Compliance forecast per tag: the trend of use and the day each pool is projected to run short',
        response: ForecastView,
      }),
    },
    async (request) => forecasts.forecast(request.params.vaId),
  );
}
