import type { Kysely } from 'kysely';
import { notFound } from '../../errors.js';
import type { RawDatabase } from '../../storage/database.js';
import type { Database } from '../../storage/schema.js';
import { findVirtualAccount } from '../accounts/account-store.js';
import { silenceAlertFrom } from '../instances/instance-lifecycle.js';
import type { InstanceService, InstanceView } from '../instances/instance-service.js';
import type { LicenseService } from '../licenses/license-service.js';
import { type CsvValue, csvRow, toCsv } from './csv.js';
import { INSTANCE_COLUMNS, instanceReportChunks, type ReportFormat } from './instance-report.js';
import type { InstanceRowSource } from './instance-report-rows.js';
import { postgresInstanceRows } from './instance-rows-postgres.js';
import { sqliteInstanceRows } from './instance-rows-sqlite.js';

export type { ReportFormat } from './instance-report.js';

/** The reports of SPEC §2. */
export type ReportKind = 'licenses' | 'instances' | 'usage';

/** A report as rows of named columns, ready for JSON or CSV. */
export interface Report {
  columns: string[];
  rows: Array<Record<string, CsvValue>>;
}

export interface ReportRange {
  /** First day included, `YYYY-MM-DD`. */
  from?: string | undefined;
  /** Last day included, `YYYY-MM-DD`. */
  to?: string | undefined;
}

const LICENSE_COLUMNS = [
  'tag',
  'name',
  'parent',
  'quantity',
  'inUse',
  'coveredByOwn',
  'coveredBy',
  'lentToChildren',
  'surplus',
  'expiresAt',
  'alerts',
];
const USAGE_COLUMNS = ['day', 'tag', 'quantity', 'inUse', 'surplus'];

/** A report read page by page: its columns, then pages of rows (a whole VA's instances never sit in memory). */
export interface ReportStream {
  columns: string[];
  pages: AsyncIterable<Array<Record<string, CsvValue>>> | Iterable<Array<Record<string, CsvValue>>>;
}

/** Reports of a VA: licenses (with hierarchy coverage), product instances, usage over time (daily snapshots). */
export function createReportService(deps: {
  db: Kysely<Database>;
  /** The driver's handle, for the instances report's lean read. */
  raw: RawDatabase;
  licenses: LicenseService;
  instances: InstanceService;
}) {
  const { db, raw, licenses, instances } = deps;

  function instanceRowsOf(vaId: string, now: number): InstanceRowSource {
    const alertFrom = silenceAlertFrom(now);
    return raw.engine === 'sqlite'
      ? sqliteInstanceRows(raw.sqlite, vaId, alertFrom)
      : postgresInstanceRows(raw.pool, vaId, alertFrom);
  }

  async function* instanceRows(pages: AsyncIterable<InstanceView[]>): AsyncGenerator<Array<Record<string, CsvValue>>> {
    for await (const page of pages) {
      yield page.map((i) => ({
        ...i,
        usage: i.usage.map((u) => `${u.tag}:${u.count}`).join(' '),
        alerts: i.alerts.join('; '),
      }));
    }
  }

  async function licenseRows(vaId: string): Promise<Array<Record<string, CsvValue>>> {
    const rows = await licenses.listLicenses(vaId);
    return rows.map((r) => ({
      ...r,
      coveredBy: r.coveredBy.map((c) => `${c.tag}:${c.count}`).join(' '),
      alerts: r.alerts.join('; '),
    }));
  }

  async function usageRows(vaId: string, range: ReportRange): Promise<Array<Record<string, CsvValue>>> {
    let query = db.selectFrom('usage_snapshots').select(['day', 'tag', 'quantity', 'in_use']).where('va_id', '=', vaId);
    if (range.from) query = query.where('day', '>=', range.from);
    if (range.to) query = query.where('day', '<=', range.to);
    const rows = await query.orderBy('day').orderBy('tag').execute();
    return rows.map((r) => ({
      day: r.day,
      tag: r.tag,
      quantity: Number(r.quantity),
      inUse: Number(r.in_use),
      surplus: Number(r.quantity) - Number(r.in_use),
    }));
  }

  const service = {
    /**
     * A report as pages of rows. The instances report walks the VA in keyset pages; the
     * others are small (one row per tag, or per tag and day) and come as one page.
     * Throws not-found before any row.
     */
    async stream(vaId: string, kind: ReportKind, range: ReportRange = {}): Promise<ReportStream> {
      if (!(await findVirtualAccount(db, vaId))) throw notFound('Virtual account', vaId);
      if (kind === 'instances') {
        return { columns: INSTANCE_COLUMNS, pages: instanceRows(await instances.streamInstances(vaId)) };
      }
      const rows = kind === 'licenses' ? await licenseRows(vaId) : await usageRows(vaId, range);
      return { columns: kind === 'licenses' ? LICENSE_COLUMNS : USAGE_COLUMNS, pages: [rows] };
    },

    /**
     * The report as text chunks in `format`, pulled as the reader reads. The instances report
     * takes the lean path: raw rows of the driver formatted straight to text
     * (`instance-report.ts`), the same bytes as {@link reportChunks} of {@link stream} at a
     * fraction of the time and memory. Throws not-found before any chunk.
     */
    async chunks(
      vaId: string,
      kind: ReportKind,
      format: ReportFormat,
      range: ReportRange = {},
    ): Promise<AsyncIterable<string>> {
      if (kind !== 'instances') return reportChunks(await service.stream(vaId, kind, range), format);
      if (!(await findVirtualAccount(db, vaId))) throw notFound('Virtual account', vaId);
      const ctx = await instances.statusContext(vaId);
      return instanceReportChunks(instanceRowsOf(vaId, ctx.now), ctx, format);
    },

    /** The whole report in memory (small reports, tests). */
    async report(vaId: string, kind: ReportKind, range: ReportRange = {}): Promise<Report> {
      const { columns, pages } = await service.stream(vaId, kind, range);
      const rows: Array<Record<string, CsvValue>> = [];
      for await (const page of pages) rows.push(...page);
      return { columns, rows };
    },
  };
  return service;
}

export type ReportService = ReturnType<typeof createReportService>;

/** The report as CSV: its columns as the header row. */
export function reportCsv(report: Report): string {
  return toCsv(
    report.columns,
    report.rows.map((row) => report.columns.map((c) => row[c])),
  );
}

/**
 * The report's text, one chunk per page: CSV (header row first), a JSON array of the row
 * objects, or JSON lines. Pulled as the reader reads (a Node `Readable.from` of it keeps the
 * backpressure: the next page is read only when the last one was taken).
 */
export async function* reportChunks(report: ReportStream, format: ReportFormat): AsyncGenerator<string> {
  if (format === 'csv') yield toCsv(report.columns, []);
  if (format === 'json') yield '[';
  let first = true;
  for await (const page of report.pages) {
    if (page.length === 0) continue;
    if (format === 'csv') {
      yield page.map((row) => csvRow(report.columns.map((c) => row[c]))).join('');
    } else if (format === 'jsonl') {
      yield page.map((row) => `${JSON.stringify(row)}\n`).join('');
    } else {
      yield (first ? '' : ',') + page.map((row) => JSON.stringify(row)).join(',');
    }
    first = false;
  }
  if (format === 'json') yield ']';
}
