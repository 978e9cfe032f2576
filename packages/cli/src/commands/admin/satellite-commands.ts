import type { SatelliteView } from '@smartlic/server';
import { Command } from 'commander';
import { type AdminConnection, adminRequest } from '../../admin-client.js';
import { print, table } from '../../output.js';
import { readSyncFile, writeSyncFile } from './sync-files.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `admin satellite create|list|file-sync|remove` (on the authority, or a satellite serving satellites). */
export function satelliteCommands(connect: () => AdminConnection): Command {
  const satellite = new Command('satellite').description('satellites (on-prem servers) serving Virtual Accounts');
  satellite
    .command('create <name>')
    .description('create a satellite serving VAs of a Smart Account; prints its one-time registration token')
    .requiredOption('--account <id>', 'Smart Account id')
    .requiredOption('--va <id>', 'a Virtual Account it serves (repeat for several)', collect)
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { account: string; va: string[]; json?: boolean }) => {
      const created = await adminRequest<{ id: string; name: string; token: string; expiresAt: string }>(
        connect(),
        'POST',
        '/api/v1/satellites',
        { name, accountId: opts.account, vaIds: opts.va },
      );
      print(
        created,
        opts,
        (c) => `${c.token}\n(satellite ${c.name} ${c.id}; register it with this token before ${c.expiresAt})`,
      );
    });
  satellite
    .command('list')
    .description("list a Smart Account's satellites, their syncs and alerts")
    .requiredOption('--account <id>', 'Smart Account id')
    .option('--json', 'print JSON')
    .action(async (opts: { account: string; json?: boolean }) => {
      const rows = await adminRequest<SatelliteView[]>(
        connect(),
        'GET',
        `/api/v1/satellites?accountId=${encodeURIComponent(opts.account)}`,
      );
      print(rows, opts, (list) =>
        table(
          ['NAME', 'VAS', 'INSTANCES', 'LAST SYNC UP', 'SYNC DUE', 'VERSION', 'CERTIFICATE EXPIRES', 'ALERTS'],
          list.map((s) => [
            s.name,
            s.vas.map((v) => v.name).join(', '),
            s.productInstances,
            s.lastSyncUp ?? (s.registered ? '-' : 'not registered'),
            s.syncDue ?? '-',
            s.version ?? '-',
            s.certificateExpiresAt ?? '-',
            s.alerts.join('; ') || '-',
          ]),
        ),
      );
    });
  satellite
    .command('file-sync')
    .description("answer a satellite's request file (registration or sync) with a response file")
    .requiredOption('--in <file>', 'the request file (license-sync-request-….yml)')
    .requiredOption('--out <file>', 'where to write the response file')
    .option('--json', 'print JSON')
    .action(async (opts: { in: string; out: string; json?: boolean }) => {
      const answer = await adminRequest<{ satellite: string; sequence: number; applied: boolean; response: unknown }>(
        connect(),
        'POST',
        '/api/v1/satellites/file-sync',
        readSyncFile(opts.in),
      );
      await writeSyncFile(opts.out, answer.response);
      const result = {
        satellite: answer.satellite,
        sequence: answer.sequence,
        applied: answer.applied,
        file: opts.out,
      };
      print(result, opts, (r) =>
        r.applied
          ? `Applied request ${r.sequence} of satellite ${r.satellite}; response written to ${r.file}`
          : `Request ${r.sequence} of satellite ${r.satellite} was already applied; its response was written again to ${r.file}`,
      );
    });
  satellite
    .command('remove <satelliteId>')
    .description('remove a satellite: its Virtual Accounts are served here again')
    .option('--json', 'print JSON')
    .action(async (satelliteId: string, opts: { json?: boolean }) => {
      const removed = await adminRequest<{ id: string; name: string; vas: string[] }>(
        connect(),
        'DELETE',
        `/api/v1/satellites/${encodeURIComponent(satelliteId)}`,
      );
      print(
        removed,
        opts,
        (r) => `Removed satellite ${r.name}; its ${r.vas.length} Virtual Account(s) are served here again`,
      );
    });
  return satellite;
}
