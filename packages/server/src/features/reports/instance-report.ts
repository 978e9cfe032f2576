import { minuteCachedIso } from '../../util/time.js';
import { entitlementStatus, type TagBalance } from '../compliance/compliance.js';
import { silenceAlert } from '../instances/instance-lifecycle.js';
import { csvRow, csvText } from './csv.js';
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

/**
 * The instances report as text chunks, one per batch of raw rows, formatted straight from the
 * rows: exactly what the paged path (`InstanceView`s through `reportChunks`) writes — the same
 * columns, CSV quoting and formula neutralising (`csv.ts`), the same JSON keys in the same
 * order. No object is made per row: an instance is gathered in a few variables as its rows
 * come, and the CSV cells that repeat (usage, status, alerts) are quoted once per distinct
 * text. An instance whose usage rows straddle two batches is written with the later one.
 * Pulled as the reader reads, so a `Readable.from` of it keeps the backpressure.
 */
export async function* instanceReportChunks(
  source: InstanceRowSource,
  ctx: InstanceStatusContext,
  format: ReportFormat,
): AsyncGenerator<string> {
  const line = format === 'csv' ? csvLine(ctx) : jsonLine(ctx);
  const separator = format === 'json' ? ',' : '';
  const end = format === 'jsonl' ? '\n' : '';
  let written = 0;
  // The instance being gathered: its first row, its usage text so far, and what its status needs.
  let row: InstanceReportRow | undefined;
  let usage = '';
  let used = false;
  let short = false;
  const write = (): string => {
    const text = line(row as InstanceReportRow, usage, !used ? 'NoUsage' : short ? 'OutOfCompliance' : 'InCompliance');
    return (written++ === 0 ? '' : separator) + text + end;
  };
  if (format === 'csv') yield csvRow(INSTANCE_COLUMNS);
  if (format === 'json') yield '[';
  for await (const batch of source) {
    let out = '';
    for (const r of batch) {
      if (row === undefined || row[0] !== r[0]) {
        if (row !== undefined) out += write();
        row = r;
        usage = '';
        used = false;
        short = false;
      }
      const tag = r[10];
      if (tag !== null) {
        const count = Number(r[11]);
        usage = usage === '' ? `${tag}:${count}` : `${usage} ${tag}:${count}`;
        if (count > 0) {
          used = true;
          if (entitlementStatus(count, ctx.balances.get(tag)) === 'OutOfCompliance') short = true;
        }
      }
    }
    if (out !== '') yield out;
  }
  if (row !== undefined) yield write();
  if (format === 'json') yield ']';
}

/** The alerts cell of a row: none for a policy device (its policy's rules, not the silence rules). */
function alertsOf(r: InstanceReportRow, now: number): string {
  return isPolicyDevice(r) ? '' : (silenceAlert(Number(r[6]), now) ?? '');
}

/** Whether the row's instance is a policy device (`true` from PostgreSQL, 1 from SQLite; only asked of silent ones). */
function isPolicyDevice(r: InstanceReportRow): boolean {
  return r[12] === true || r[12] === 1;
}

/** `csvText` of texts that repeat row after row (usage, status, alerts), each worked out once. */
function repeatedCsvText(): (text: string) => string {
  const known = new Map<string, string>();
  return (text) => {
    let cell = known.get(text);
    if (cell === undefined) {
      cell = csvText(text);
      if (known.size < 1024) known.set(text, cell);
    }
    return cell;
  };
}

function csvLine(ctx: InstanceStatusContext): (r: InstanceReportRow, usage: string, status: string) => string {
  const registered = minuteCachedIso();
  const contact = minuteCachedIso();
  const repeated = repeatedCsvText();
  return (r, usage, status) =>
    `${csvText(r[0])},${csvText(r[1])},${csvText(r[2])},${csvText(r[3])},${csvText(r[4])},${csvText(
      registered(Number(r[5])),
    )},${csvText(contact(Number(r[6])))},${repeated(usage)},${repeated(status)},${repeated(alertsOf(r, ctx.now))}\r\n`;
}

/** The keys and order of `{...InstanceView, usage, alerts}`, as the paged path serialises it. */
function jsonLine(ctx: InstanceStatusContext): (r: InstanceReportRow, usage: string, status: string) => string {
  const registered = minuteCachedIso();
  const contact = minuteCachedIso();
  const expires = minuteCachedIso();
  const s = JSON.stringify;
  return (r, usage, status) =>
    `{"id":${s(r[0])},"pid":${s(r[1])},"sn":${s(r[2])},"hostname":${s(r[3])},"softwareTag":${s(r[4])},"registeredAt":${s(
      registered(Number(r[5])),
    )},"lastContact":${s(contact(Number(r[6])))},"idCertSerial":${s(r[7])},"idCertExpiresAt":${s(
      expires(Number(r[8])),
    )},"exportControlled":${Number(r[9]) === 1},"usage":${s(usage)},"status":${s(status)},"alerts":${s(alertsOf(r, ctx.now))}}`;
}
