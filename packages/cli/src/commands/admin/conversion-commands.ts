import type { DeviceConversionView } from '@smartlic/server';
import { Command } from 'commander';
import { type AdminConnection, adminRequest } from '../../admin-client.js';
import { CliError, print, table } from '../../output.js';

const STATUSES = ['pending', 'approved', 'rejected'] as const;

const decided = (c: DeviceConversionView) =>
  `Device conversion ${c.id} (${c.count} × ${c.tag}, legacy license ${c.legacyId} of ${c.udi}) ${c.status}.`;

/** `admin conversion list|approve|reject`: device-led conversions, and the decisions on those that wait. */
export function conversionCommands(connect: () => AdminConnection): Command {
  const conversion = new Command('conversion').description(
    'device-led conversions of a Virtual Account; approve or reject those waiting for an admin',
  );
  conversion
    .command('list')
    .description("a Virtual Account's device-led conversions, oldest first")
    .requiredOption('--va <id>', 'Virtual Account id')
    .option('--pending', 'only those waiting for an admin')
    .option('--status <status>', 'only pending, approved or rejected ones')
    .option('--json', 'print JSON')
    .action(async (opts: { va: string; pending?: boolean; status?: string; json?: boolean }) => {
      const status = opts.pending ? 'pending' : opts.status;
      if (status !== undefined && !(STATUSES as readonly string[]).includes(status)) {
        throw new CliError(`--status must be pending, approved or rejected, not "${status}".`);
      }
      const query = status === undefined ? '' : `?status=${status}`;
      const rows = await adminRequest<DeviceConversionView[]>(
        connect(),
        'GET',
        `/api/v1/virtual-accounts/${encodeURIComponent(opts.va)}/device-conversions${query}`,
      );
      print(rows, opts, (list) =>
        table(
          ['ID', 'STATUS', 'REASON', 'LICENSE', 'COUNT', 'LEGACY ID', 'DEVICE', 'REQUESTED', 'DECIDED BY'],
          list.map((c) => [
            c.id,
            c.status,
            c.reason,
            c.tag,
            c.count,
            c.legacyId,
            c.udi,
            c.requestedAt,
            c.decidedBy ?? '',
          ]),
        ),
      );
    });
  conversion
    .command('approve <conversionId>')
    .description('approve a pending device-led conversion: its licenses are deposited into the VA')
    .option('--json', 'print JSON')
    .action(async (conversionId: string, opts: { json?: boolean }) => {
      const approved = await adminRequest<DeviceConversionView>(
        connect(),
        'POST',
        `/api/v1/device-conversions/${encodeURIComponent(conversionId)}/approve`,
      );
      print(approved, opts, decided);
    });
  conversion
    .command('reject <conversionId>')
    .description('reject a pending device-led conversion: nothing is deposited')
    .option('--note <text>', 'why, for the event log')
    .option('--json', 'print JSON')
    .action(async (conversionId: string, opts: { note?: string; json?: boolean }) => {
      const rejected = await adminRequest<DeviceConversionView>(
        connect(),
        'POST',
        `/api/v1/device-conversions/${encodeURIComponent(conversionId)}/reject`,
        opts.note ? { note: opts.note } : {},
      );
      print(rejected, opts, decided);
    });
  return conversion;
}
