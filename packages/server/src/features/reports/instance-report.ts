import { minuteCachedIso } from '../../util/time.js';
import { entitlementStatus, type InstanceComplianceStatus, type TagBalance } from '../compliance/compliance.js';
import { silenceAlerts } from '../instances/instance-lifecycle.js';
import { csvField, csvRow } from './csv.js';
import type { InstanceReportRow, InstanceRowSource } from './instance-report-rows.js';

/** The instances report's CSV columns (SPEC §2), in order. */
export const INSTANCE_COLUMNS = [
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

/** How a streamed report is written: CSV, one JSON array, or JSON lines (one row object a line). */
export type ReportFormat = 'csv' | 'json' | 'jsonl';

/** What each instance's status and alerts are judged against: the VA's balances and the time, read once per report. */
export interface InstanceStatusContext {
  now: number;
  balances: ReadonlyMap<string, TagBalance>;
}

/** One instance gathered from its rows: its usage as the report writes it, and what its status needs (as `instanceStatus` judges). */
interface Gathered {
  row: InstanceReportRow;
  /** `tag:count` by tag, space-separated. */
  usage: string;
  /** Some entitlement counts above zero (else `NoUsage`). */
  used: boolean;
  /** Some entitlement is out of compliance. */
  short: boolean;
}

/**
 * The instances report as text chunks, one per batch of raw rows, formatted straight from the
 * rows (no row objects): exactly what the paged path (`InstanceView`s through `reportChunks`)
 * writes — the same columns, CSV quoting and formula neutralising (`csv.ts`), the same JSON
 * keys in the same order. An instance whose usage rows straddle two batches is written with
 * the later one. Pulled as the reader reads, so a `Readable.from` of it keeps the backpressure.
 */
export async function* instanceReportChunks(
  source: InstanceRowSource,
  ctx: InstanceStatusContext,
  format: ReportFormat,
): AsyncGenerator<string> {
  const line = format === 'csv' ? csvLine : jsonLine;
  const times: Times = { registered: minuteCachedIso(), contact: minuteCachedIso(), expires: minuteCachedIso() };
  const separator = format === 'json' ? ',' : '';
  const end = format === 'jsonl' ? '\n' : '';
  let written = 0;
  let pending: Gathered | undefined;
  const write = (g: Gathered): string => {
    const text = line(g, ctx, times);
    return (written++ === 0 ? '' : separator) + text + end;
  };
  if (format === 'csv') yield csvRow(INSTANCE_COLUMNS);
  if (format === 'json') yield '[';
  for await (const batch of source) {
    let out = '';
    for (const row of batch) {
      if (pending !== undefined && pending.row[0] !== row[0]) {
        out += write(pending);
        pending = undefined;
      }
      pending ??= { row, usage: '', used: false, short: false };
      if (row[10] !== null) {
        const count = Number(row[11]);
        pending.usage += `${pending.usage === '' ? '' : ' '}${row[10]}:${count}`;
        if (count > 0) pending.used = true;
        if (entitlementStatus(count, ctx.balances.get(row[10])) === 'OutOfCompliance') pending.short = true;
      }
    }
    if (out !== '') yield out;
  }
  if (pending !== undefined) yield write(pending);
  if (format === 'json') yield ']';
}

/** ISO texts of the three times of a row, each column with its own cache (consecutive rows are often in the same minute). */
interface Times {
  registered: (ms: number) => string;
  contact: (ms: number) => string;
  expires: (ms: number) => string;
}

function statusOf(g: Gathered): InstanceComplianceStatus {
  return !g.used ? 'NoUsage' : g.short ? 'OutOfCompliance' : 'InCompliance';
}

function csvLine(g: Gathered, ctx: InstanceStatusContext, times: Times): string {
  const r = g.row;
  return `${csvField(r[0])},${csvField(r[1])},${csvField(r[2])},${csvField(r[3])},${csvField(r[4])},${csvField(
    times.registered(Number(r[5])),
  )},${csvField(times.contact(Number(r[6])))},${csvField(g.usage)},${csvField(statusOf(g))},${csvField(
    silenceAlerts(Number(r[6]), ctx.now).join('; '),
  )}\r\n`;
}

/** The keys and order of `{...InstanceView, usage, alerts}`, as the paged path serialises it. */
function jsonLine(g: Gathered, ctx: InstanceStatusContext, times: Times): string {
  const r = g.row;
  const s = JSON.stringify;
  return `{"id":${s(r[0])},"pid":${s(r[1])},"sn":${s(r[2])},"hostname":${s(r[3])},"softwareTag":${s(r[4])},"registeredAt":${s(
    times.registered(Number(r[5])),
  )},"lastContact":${s(times.contact(Number(r[6])))},"idCertSerial":${s(r[7])},"idCertExpiresAt":${s(
    times.expires(Number(r[8])),
  )},"exportControlled":${Number(r[9]) === 1},"usage":${s(g.usage)},"status":${s(
    statusOf(g),
  )},"alerts":${s(silenceAlerts(Number(r[6]), ctx.now).join('; '))}}`;
}
