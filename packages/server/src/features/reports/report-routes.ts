import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { adminRoute } from '../../http/route-config.js';
import { parseInput } from '../../validation.js';
import { byVa, target } from '../access/route-targets.js';
import type { ReportService } from './report-service.js';

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a day such as 2027-01-31');
const ReportQuery = z.object({
  format: z.enum(['json', 'csv', 'jsonl']).default('json'),
  from: Day.optional(),
  to: Day.optional(),
});
const Kind = z.enum(['licenses', 'instances', 'usage']);

/**
 * How far a report is formatted ahead of the socket: about six pages of instances, so that the
 * next page is read and written while the client takes the last one (1 MB per report at most).
 */
const REPORT_READ_AHEAD_BYTES = 1 << 20;

/**
 * `GET /virtual-accounts/:vaId/reports/licenses|instances|usage?format=json|csv|jsonl&from=&to=`,
 * streamed page by page (an instances report of a million rows never sits in memory).
 */
export function registerReportRoutes(app: FastifyInstance, reports: ReportService): void {
  app.get<{ Params: { vaId: string; kind: string } }>(
    '/api/v1/virtual-accounts/:vaId/reports/:kind',
    {
      config: adminRoute('read', target.va(byVa()), {
        summary: 'A report of a VA: licenses, instances or usage over time (JSON or CSV)',
        query: ReportQuery,
      }),
    },
    async (request, reply) => {
      const kind = parseInput(Kind, request.params.kind, 'kind');
      const query = parseInput(ReportQuery, request.query ?? {});
      const chunks = await reports.chunks(request.params.vaId, kind, query.format, query);
      const body = Readable.from(chunks, { objectMode: false, highWaterMark: REPORT_READ_AHEAD_BYTES });
      if (query.format === 'csv') {
        reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${kind}.csv"`);
      } else {
        reply.type(
          query.format === 'jsonl' ? 'application/x-ndjson; charset=utf-8' : 'application/json; charset=utf-8',
        );
      }
      return reply.send(body);
    },
  );
}
