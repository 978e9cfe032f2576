import type { Kysely } from 'kysely';
import { notFound } from '../../errors.js';
import type { Database } from '../../storage/schema.js';
import { findVirtualAccount } from '../accounts/account-store.js';
import type { InstanceService } from '../instances/instance-service.js';
import type { LicenseService } from '../licenses/license-service.js';
import { type CsvValue, toCsv } from './csv.js';

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
const INSTANCE_COLUMNS = [
  'id',
  'pid',
  'sn',
  'hostname',
  'softwareTag',
  'registeredAt',
  'lastContact',
  'usage',
  'status',
  'alerts',
];
const USAGE_COLUMNS = ['day', 'tag', 'quantity', 'inUse', 'surplus'];

/** Reports of a VA: licenses (with hierarchy coverage), product instances, usage over time (daily snapshots). */
export function createReportService(deps: {
  db: Kysely<Database>;
  licenses: LicenseService;
  instances: InstanceService;
}) {
  const { db, licenses, instances } = deps;
  return {
    async report(vaId: string, kind: ReportKind, range: ReportRange = {}): Promise<Report> {
      if (!(await findVirtualAccount(db, vaId))) throw notFound('Virtual account', vaId);
      if (kind === 'licenses') {
        const rows = await licenses.listLicenses(vaId);
        return {
          columns: LICENSE_COLUMNS,
          rows: rows.map((r) => ({
            ...r,
            coveredBy: r.coveredBy.map((c) => `${c.tag}:${c.count}`).join(' '),
            alerts: r.alerts.join('; '),
          })),
        };
      }
      if (kind === 'instances') {
        const rows = await instances.listInstances(vaId);
        return {
          columns: INSTANCE_COLUMNS,
          rows: rows.map((i) => ({
            ...i,
            usage: i.usage.map((u) => `${u.tag}:${u.count}`).join(' '),
            alerts: i.alerts.join('; '),
          })),
        };
      }
      let query = db
        .selectFrom('usage_snapshots')
        .select(['day', 'tag', 'quantity', 'in_use'])
        .where('va_id', '=', vaId);
      if (range.from) query = query.where('day', '>=', range.from);
      if (range.to) query = query.where('day', '<=', range.to);
      const rows = await query.orderBy('day').orderBy('tag').execute();
      return {
        columns: USAGE_COLUMNS,
        rows: rows.map((r) => ({
          day: r.day,
          tag: r.tag,
          quantity: Number(r.quantity),
          inUse: Number(r.in_use),
          surplus: Number(r.quantity) - Number(r.in_use),
        })),
      };
    },
  };
}

export type ReportService = ReturnType<typeof createReportService>;

/** The report as CSV: its columns as the header row. */
export function reportCsv(report: Report): string {
  return toCsv(
    report.columns,
    report.rows.map((row) => report.columns.map((c) => row[c])),
  );
}
