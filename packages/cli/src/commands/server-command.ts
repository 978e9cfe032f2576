import { resolve } from 'node:path';
import { Command } from 'commander';
import { processClock } from '../clock.js';
import { CliError, parseInteger } from '../output.js';
import { type RateLimitFlags, rateLimitsOf, withRateLimitFlags } from './server-rate-limits.js';

interface ServerFlags extends RateLimitFlags {
  data: string;
  db?: string;
  host: string;
  port: string;
  mode: string;
  upstream?: string;
  logLevel: string;
  webhookAllowPrivate?: boolean;
  restore?: string;
}

/** `smartlic server`: runs an authority (or, later, a satellite) until stopped. */
export function serverCommand(): Command {
  return withRateLimitFlags(new Command('server'))
    .description('run a smartlic server (authority or satellite)')
    .option('--data <dir>', 'data directory', './data')
    .option('--db <url>', 'database URL (default: SQLite in the data directory)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', '8470')
    .option('--mode <mode>', 'authority or satellite', 'authority')
    .option('--upstream <url>', 'the authority a satellite synchronises with')
    .option('--log-level <level>', 'log level: fatal, error, warn, info, debug or silent', 'info')
    .option('--webhook-allow-private', 'let webhooks reach loopback, private and link-local addresses')
    .option('--restore <file>', 'first restore this backup (smartlic admin backup) into the empty data directory')
    .action(async (flags: ServerFlags) => {
      if (flags.mode !== 'authority' && flags.mode !== 'satellite') {
        throw new CliError(`--mode must be authority or satellite, not "${flags.mode}".`);
      }
      const rateLimits = rateLimitsOf(flags);
      // Loaded on demand: device and admin commands should not pay for the server's start-up.
      const { startServer, restoreBackup, BackupFileError, POSTGRES_BACKUP_MESSAGE } = await import('@smartlic/server');
      if (flags.restore !== undefined) {
        if (flags.db?.startsWith('postgres')) {
          throw new CliError(`--restore restores SQLite backups only. ${POSTGRES_BACKUP_MESSAGE}`);
        }
        if (flags.db !== undefined) throw new CliError('--restore restores into the data directory: leave out --db.');
        try {
          const header = restoreBackup(resolve(flags.restore), resolve(flags.data));
          process.stdout.write(
            `Restored ${header.files.length} files of the backup taken ${new Date(header.createdAt).toISOString()} into ${resolve(flags.data)}.\n`,
          );
        } catch (error) {
          if (error instanceof BackupFileError) throw new CliError(error.message);
          throw error;
        }
      }
      const server = await startServer({
        dataDir: resolve(flags.data),
        host: flags.host,
        port: parseInteger(flags.port, '--port', 0),
        mode: flags.mode,
        clock: processClock(),
        logLevel: flags.logLevel,
        rateLimits,
        ...(flags.db ? { dbUrl: flags.db } : {}),
        ...(flags.webhookAllowPrivate ? { webhookAllowPrivate: true } : {}),
      });
      const keyNote = server.adminKeyCreated ? 'created now' : 'created at first start';
      process.stdout.write(
        [
          `smartlic ${flags.mode} listening on ${server.url}`,
          `Admin API key: ${server.adminKeyPath} (${keyNote}; mode 0600)`,
          `Root CA for devices: ${server.rootCaPath}`,
          `  (a device trusts it with: npx smartlic device call-home destination ${server.url} --root ${server.rootCaPath})`,
          'Log in with:',
          `  export SMARTLIC_SERVER=${server.url} SMARTLIC_API_KEY=$(cat ${server.adminKeyPath})`,
          '  npx smartlic admin account create "My Company" --domain example.com',
          '',
        ].join('\n'),
      );
      const stop = (signal: string) => {
        process.stdout.write(`Received ${signal}; stopping.\n`);
        server.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
}
