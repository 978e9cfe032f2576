import { resolve } from 'node:path';
import type { TlsOptions } from '@smartlic/server';
import { Command } from 'commander';
import { processClock } from '../clock.js';
import { CliError, parseInteger } from '../output.js';
import { type RateLimitFlags, rateLimitsOf, withRateLimitFlags } from './server-rate-limits.js';

interface ServerFlags extends RateLimitFlags {
  data: string;
  db?: string;
  dbPoolSize?: string;
  host: string;
  port: string;
  mode: string;
  upstream?: string;
  logLevel: string;
  webhookAllowPrivate?: boolean;
  tls?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsName: string[];
  restore?: string;
  jobStartDelay: string;
  sessionIdleMinutes: string;
  helperNice: string;
}

/** `smartlic server`: runs an authority or a satellite (`--mode satellite [--upstream URL]`) until stopped. */
export function serverCommand(): Command {
  return withRateLimitFlags(new Command('server'))
    .description('run a smartlic server (authority or satellite)')
    .option('--data <dir>', 'data directory', './data')
    .option('--db <url>', 'database URL (default: SQLite in the data directory)')
    .option(
      '--db-pool-size <n>',
      'PostgreSQL: connections this process keeps to the database (default 10; processes × n must stay below max_connections)',
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', '8470')
    .option('--mode <mode>', 'authority or satellite', 'authority')
    .option('--upstream <url>', 'with --mode satellite: the authority (or middle satellite) it synchronises with')
    .option('--log-level <level>', 'log level: fatal, error, warn, info, debug or silent', 'info')
    .option('--webhook-allow-private', 'let webhooks reach loopback, private and link-local addresses')
    .option('--tls <mode>', 'HTTPS: "auto" issues the server a certificate from its own root CA')
    .option('--tls-cert <file>', 'HTTPS with this certificate (PEM, leaf first, then its chain)')
    .option('--tls-key <file>', 'the private key of --tls-cert (PEM)')
    .option(
      '--tls-name <name>',
      'with --tls auto: another host name or IP address for the certificate (repeatable)',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option(
      '--job-start-delay <seconds>',
      'seconds from start to the first run of the background jobs (work that fell due while stopped)',
      '5',
    )
    .option('--session-idle-minutes <n>', 'minutes a portal session may stay unused before it ends', '30')
    .option(
      '--helper-nice <n>',
      "Linux: how much nicer than the event loop the server's other threads (signatures, disk syncs) run; 0 leaves them as they are",
      '10',
    )
    .option('--restore <file>', 'first restore this backup (smartlic admin backup) into the empty data directory')
    .action(async (flags: ServerFlags) => {
      if (flags.mode !== 'authority' && flags.mode !== 'satellite') {
        throw new CliError(`--mode must be authority or satellite, not "${flags.mode}".`);
      }
      const tls = tlsOf(flags);
      const rateLimits = rateLimitsOf(flags);
      const jobStartDelayMs = parseInteger(flags.jobStartDelay, '--job-start-delay', 0) * 1000;
      const sessionIdleMinutes = parseInteger(flags.sessionIdleMinutes, '--session-idle-minutes', 1);
      const helperNice = parseInteger(flags.helperNice, '--helper-nice', 0);
      if (helperNice > 19) throw new CliError('--helper-nice must be at most 19 (the lowest priority there is).');
      const dbPoolSize =
        flags.dbPoolSize === undefined ? undefined : parseInteger(flags.dbPoolSize, '--db-pool-size', 1);
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
        ...(flags.upstream !== undefined ? { upstream: flags.upstream } : {}),
        clock: processClock(),
        logLevel: flags.logLevel,
        rateLimits,
        jobStartDelayMs,
        sessionIdleMinutes,
        helperNice,
        ...(flags.db ? { dbUrl: flags.db } : {}),
        ...(dbPoolSize === undefined ? {} : { dbPoolSize }),
        ...(flags.webhookAllowPrivate ? { webhookAllowPrivate: true } : {}),
        ...(tls ? { tls } : {}),
      });
      const keyNote = server.adminKeyCreated ? 'created now' : 'created at first start';
      const satellite = server.mode === 'satellite';
      process.stdout.write(
        [
          satellite
            ? `smartlic satellite listening on ${server.url} (${server.pki.ready ? 'registered: serving devices' : 'not registered yet: devices are asked to try again'})`
            : `smartlic authority listening on ${server.url}`,
          ...(satellite
            ? [`Upstream: ${flags.upstream ?? 'none (synchronise by files, or give --upstream URL)'}`]
            : []),
          `Portal: ${server.url}/`,
          ...passwordNote(server),
          `Admin API key: ${server.adminKeyPath} (${keyNote}; mode 0600)`,
          ...(satellite && !server.pki.ready
            ? []
            : [
                `Root CA for devices: ${server.rootCaPath}`,
                `  (a device trusts it with: npx smartlic device call-home destination ${server.url}${satellite ? '/SmartTransport' : ''} --root ${server.rootCaPath})`,
              ]),
          ...tlsNote(server.tls, server.rootCaPath),
          'Log in with:',
          `  export SMARTLIC_SERVER=${server.url} SMARTLIC_API_KEY=$(cat ${server.adminKeyPath})${
            server.tls?.mode === 'auto' ? ` SMARTLIC_CA=${server.rootCaPath}` : ''
          }`,
          satellite
            ? server.pki.ready
              ? '  npx smartlic admin sync status'
              : '  npx smartlic admin sync register --token TOKEN --upstream URL   (the token from: admin satellite create, at the authority)'
            : '  npx smartlic admin account create "My Company" --domain example.com',
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

/** How the start message tells the owner to sign in to the portal. */
function passwordNote(server: { adminPasswordPath: string; adminPasswordPresent: boolean }): string[] {
  if (server.adminPasswordPresent) return [`Sign in as admin with the password in ${server.adminPasswordPath}`];
  return [
    `Sign in as admin with the password you noted (${server.adminPasswordPath} was removed; set a new one with: npx smartlic admin user set-password admin --password-stdin)`,
  ];
}

/** The HTTPS option of the flags: `--tls auto [--tls-name N…]`, or `--tls-cert F --tls-key K`, or none. */
function tlsOf(flags: ServerFlags): TlsOptions | undefined {
  if (flags.tls !== undefined && flags.tls !== 'auto') {
    throw new CliError(
      `--tls takes "auto", not "${flags.tls}" (for your own certificate use --tls-cert and --tls-key).`,
    );
  }
  const files = flags.tlsCert !== undefined || flags.tlsKey !== undefined;
  if (flags.tls === 'auto' && files) throw new CliError('Use either --tls auto or --tls-cert/--tls-key, not both.');
  if (flags.tlsName.length > 0 && flags.tls !== 'auto') throw new CliError('--tls-name goes with --tls auto.');
  if (flags.tls === 'auto') return { mode: 'auto', names: flags.tlsName };
  if (!files) return undefined;
  if (flags.tlsCert === undefined || flags.tlsKey === undefined) {
    throw new CliError('--tls-cert and --tls-key go together: give both the certificate and its private key.');
  }
  return { mode: 'files', certFile: resolve(flags.tlsCert), keyFile: resolve(flags.tlsKey) };
}

/** What the start message says about HTTPS: which certificate, and what clients must trust. */
function tlsNote(tls: { mode: 'auto' | 'files'; certPath: string } | undefined, rootCaPath: string): string[] {
  if (!tls) return [];
  if (tls.mode === 'auto') {
    return [
      `HTTPS certificate: ${tls.certPath} (issued by this server's root CA)`,
      `  clients trust it through the root CA: devices with --root, admin commands with --ca ${rootCaPath} or SMARTLIC_CA`,
    ];
  }
  return [
    `HTTPS certificate: ${tls.certPath} (yours)`,
    '  clients must trust its issuer: admin commands with --ca FILE or SMARTLIC_CA unless a public CA issued it',
  ];
}
