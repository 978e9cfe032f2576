import { join } from 'node:path';
import { Command } from 'commander';
import { type AdminConnection, adminRequest } from '../../admin-client.js';
import { CliError, parseInteger, print } from '../../output.js';
import { readSyncFile, writeSyncFile } from './sync-files.js';

type Counts = Record<string, number | boolean>;

const counts = (c: Counts) =>
  Object.entries(c)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

/** `admin sync register|now|export|import|schedule|status` (on a satellite). */
export function syncCommands(connect: () => AdminConnection): Command {
  const sync = new Command('sync').description("this satellite's synchronisation with its upstream");
  sync
    .command('register')
    .description('register this satellite with a satellite token: over the network, or by a request file')
    .requiredOption('--token <token>', 'the token of admin satellite create')
    .option('--upstream <url>', 'the authority (or middle satellite) to register with')
    .option('--request-file <file>', 'write a registration request file instead (air-gapped)')
    .option('--json', 'print JSON')
    .action(async (opts: { token: string; upstream?: string; requestFile?: string; json?: boolean }) => {
      if (opts.upstream && opts.requestFile) throw new CliError('Give --upstream or --request-file, not both.');
      const answer = await adminRequest<{
        registered: boolean;
        name?: string;
        satelliteId?: string;
        document?: unknown;
      }>(connect(), 'POST', '/api/v1/sync/register', {
        token: opts.token,
        ...(opts.upstream ? { upstream: opts.upstream } : {}),
        ...(opts.requestFile ? { file: true } : {}),
      });
      if (opts.requestFile) {
        await writeSyncFile(opts.requestFile, answer.document);
        print({ registered: false, file: opts.requestFile }, opts, (r) => `Registration request written to ${r.file}`);
        return;
      }
      print(
        { registered: true, name: answer.name, satelliteId: answer.satelliteId },
        opts,
        (r) => `Registered as satellite ${r.name} (${r.satelliteId})`,
      );
    });
  sync
    .command('now')
    .description('synchronise with the upstream now')
    .option('--full', 'send and receive everything (repairs any drift)')
    .option('--json', 'print JSON')
    .action(async (opts: { full?: boolean; json?: boolean }) => {
      const result = await adminRequest<{ sequence: number; full: boolean; up: Counts; down: Counts }>(
        connect(),
        'POST',
        '/api/v1/sync/now',
        { full: Boolean(opts.full) },
      );
      print(
        result,
        opts,
        (r) => `Sync ${r.sequence}${r.full ? ' (full)' : ''}: up ${counts(r.up)}; down ${counts(r.down)}`,
      );
    });
  sync
    .command('export')
    .description('write the request file to carry to the upstream (air-gapped sync)')
    .option('--full', 'a full sync')
    .requiredOption('--out <dir>', 'directory to write license-sync-request-….yml into')
    .option('--json', 'print JSON')
    .action(async (opts: { full?: boolean; out: string; json?: boolean }) => {
      const answer = await adminRequest<{ file: string; sequence: number; document: unknown }>(
        connect(),
        'POST',
        '/api/v1/sync/export',
        { full: Boolean(opts.full) },
      );
      const file = join(opts.out, answer.file);
      await writeSyncFile(file, answer.document);
      print({ file, sequence: answer.sequence }, opts, (r) => `Request ${r.sequence} written to ${r.file}`);
    });
  sync
    .command('import <file>')
    .description('load a response file from the upstream')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const result = await adminRequest<{ kind: string; sequence: number; applied: boolean; down: Counts }>(
        connect(),
        'POST',
        '/api/v1/sync/import',
        readSyncFile(file),
      );
      print(
        { sequence: result.sequence, applied: result.applied, kind: result.kind, down: result.down },
        opts,
        (r) => `Applied ${r.kind} ${r.sequence}: ${counts(r.down)}`,
      );
    });
  sync
    .command('schedule')
    .description('network sync schedule: every N days, or off (manual only)')
    .option('--every <days>', 'days between syncs')
    .option('--off', 'no scheduled sync')
    .option('--json', 'print JSON')
    .action(async (opts: { every?: string; off?: boolean; json?: boolean }) => {
      if (Boolean(opts.every) === Boolean(opts.off)) throw new CliError('Give --every DAYS or --off.');
      const days = opts.every ? parseInteger(opts.every, '--every', 1) : null;
      const result = await adminRequest<{ scheduleDays: number | null }>(connect(), 'POST', '/api/v1/sync/schedule', {
        days,
      });
      print(result, opts, (r) =>
        r.scheduleDays === null ? 'Scheduled sync is off' : `Sync every ${r.scheduleDays} days`,
      );
    });
  sync
    .command('status')
    .description("this satellite's sync status and health")
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const s = await adminRequest<{
        name: string | null;
        upstream: string | null;
        vas: Array<{ id: string; name: string }>;
        health: string;
        lastSyncUp: string | null;
        syncDue: string | null;
        certificateExpiresAt: string | null;
      }>(connect(), 'GET', '/api/v1/sync/status');
      print(s, opts, (r) =>
        [
          `Satellite: ${r.name ?? '(not registered)'}`,
          `Upstream: ${r.upstream ?? '-'}`,
          `Virtual Accounts: ${r.vas.map((v) => v.name).join(', ') || '-'}`,
          `Health: ${r.health}`,
          `Last sync: ${r.lastSyncUp ?? '-'}`,
          `Next due: ${r.syncDue ?? '-'}`,
          `Certificate expires: ${r.certificateExpiresAt ?? '-'}`,
        ].join('\n'),
      );
    });
  return sync;
}
