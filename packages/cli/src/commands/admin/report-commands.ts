import type { TagForecast } from '@smartlic/server';
import { Command } from 'commander';
import { type AdminConnection, adminRequest, adminText } from '../../admin-client.js';
import { CliError, print, table, terminalText } from '../../output.js';
import { startProgress } from '../../progress.js';

const KINDS = ['licenses', 'instances', 'usage', 'forecast'] as const;

/** Said (on stderr) when the usage report has no row yet: it is built from the daily snapshots. */
export const USAGE_HINT =
  'No usage snapshot in this range yet: the lifecycle jobs take one a day (checked hourly); `smartlic admin job run` takes one now.';

/**
 * `admin report licenses|instances|usage --va VA_ID [--format json|csv|jsonl] [--from DAY] [--to DAY]`,
 * and `admin report forecast --va VA_ID [--json]` (the compliance forecast: a table, or JSON).
 */
export function reportCommands(connect: () => AdminConnection): Command {
  return new Command('report')
    .description('reports of a Virtual Account: licenses, product instances, usage over time, compliance forecast')
    .argument('<kind>', KINDS.join(', '))
    .requiredOption('--va <id>', 'Virtual Account id')
    .option('--format <format>', 'json, csv or jsonl (one JSON object a line)', 'json')
    .option('--from <day>', 'first day (usage), e.g. 2027-01-01')
    .option('--to <day>', 'last day (usage)')
    .option('--json', 'same as --format json')
    .action(async (kind: string, opts: { va: string; format: string; from?: string; to?: string; json?: boolean }) => {
      if (!(KINDS as readonly string[]).includes(kind))
        throw new CliError(`The report must be one of ${KINDS.join(', ')}, not "${kind}".`);
      if (kind === 'forecast') {
        if (opts.format !== 'json' || opts.from || opts.to) {
          throw new CliError('The forecast takes no --format, --from or --to: it prints a table, or JSON with --json.');
        }
        const rows = await adminRequest<TagForecast[]>(
          connect(),
          'GET',
          `/api/v1/vas/${encodeURIComponent(opts.va)}/forecast`,
        );
        print(rows, opts, forecastTable);
        return;
      }
      const format = opts.json ? 'json' : opts.format;
      if (format !== 'json' && format !== 'csv' && format !== 'jsonl')
        throw new CliError(`--format must be json, csv or jsonl, not "${opts.format}".`);
      const query = new URLSearchParams({ format });
      if (opts.from) query.set('from', opts.from);
      if (opts.to) query.set('to', opts.to);
      const path = `/api/v1/virtual-accounts/${encodeURIComponent(opts.va)}/reports/${kind}?${query}`;
      let empty: boolean;
      // Saved to a file or piped, a long download shows its progress on a terminal's stderr.
      const progress = startProgress(`Report ${kind}`, { quiet: format === 'json' || process.stdout.isTTY === true });
      const onData = (received: number, total: number | undefined) => progress.update(received, total);
      // CSV stays byte for byte what the server wrote when saved or piped; on a terminal its controls are shown escaped.
      if (format === 'csv') {
        const csv = await adminText(connect(), path, onData);
        progress.end();
        process.stdout.write(process.stdout.isTTY ? terminalText(csv, '\t\r\n') : csv);
        empty = csv.trim().split('\n').length <= 1;
      } else if (format === 'jsonl') {
        // JSON lines: written as the server streamed them (JSON escapes every control character).
        const lines = await adminText(connect(), path, onData);
        progress.end();
        process.stdout.write(lines);
        empty = lines.length === 0;
      } else {
        const rows = await adminRequest<unknown[]>(connect(), 'GET', path);
        print(rows, { json: true }, () => '');
        empty = rows.length === 0;
      }
      if (kind === 'usage' && empty) process.stderr.write(`${USAGE_HINT}\n`);
    });
}

function forecastTable(rows: TagForecast[]): string {
  if (rows.length === 0) return 'No licenses or usage in this Virtual Account.';
  return table(
    ['LICENSE', 'QUANTITY', 'IN USE', 'TREND/DAY', 'RUNS SHORT', 'BASIS'],
    rows.map((r) => [
      r.name === r.tag ? r.tag : `${r.name} (${r.tag})`,
      r.quantity,
      r.inUse,
      r.trendPerDay > 0 ? `+${r.trendPerDay}` : String(r.trendPerDay),
      r.shortageDate ?? 'not at this trend',
      r.basis,
    ]),
  );
}
