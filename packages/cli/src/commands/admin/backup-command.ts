import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import { type AdminConnection, fieldDetails } from '../../admin-client.js';
import { CliError, print } from '../../output.js';
import { startProgress } from '../../progress.js';

interface BackupFlags {
  out: string;
  json?: boolean;
}

/** What `admin backup --json` prints. */
interface BackupResult {
  file: string;
  bytes: number;
  createdAt: string;
  files: Array<{ path: string; size: number }>;
}

/**
 * `admin backup --out FILE`: asks the server for a backup (`POST /api/v1/backup`, owner key)
 * and writes it atomically: into a temporary file beside FILE (mode 0600: it holds private
 * keys), fsynced, checked completely (sizes and checksums), then renamed over FILE. Progress
 * goes to stderr on a terminal, never with --json or when piped.
 */
export function backupCommand(connect: () => AdminConnection): Command {
  return new Command('backup')
    .description('write a backup of the authority (database, pki/, secrets.key, admin-api-key) to one file')
    .requiredOption('--out <file>', 'the backup file to write (mode 0600)')
    .option('--json', 'print JSON')
    .action(async (flags: BackupFlags) => {
      const connection = connect();
      const out = resolve(flags.out);
      let response: Response;
      try {
        response = await fetch(`${connection.server}/api/v1/backup`, {
          method: 'POST',
          headers: { authorization: `Bearer ${connection.apiKey}` },
        });
      } catch (error) {
        const reason = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
        throw new CliError(`Cannot reach the server at ${connection.server} (${reason}).`);
      }
      if (!response.ok || !response.body) {
        const text = await response.text();
        let body: { message?: string; fields?: Record<string, string[]> } | undefined;
        try {
          body = JSON.parse(text) as typeof body;
        } catch {
          body = undefined;
        }
        const message = body?.message ?? `The server answered ${response.status}.`;
        throw new CliError(`${message}${fieldDetails(message, body?.fields)}`);
      }
      const expected = Number(response.headers.get('content-length') ?? 0);
      const progress = startProgress('Backing up', { quiet: flags.json === true });
      const temp = join(dirname(out), `.${basename(out)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
      let fd = -1;
      try {
        fd = openSync(temp, 'wx', 0o600);
        let received = 0;
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          let offset = 0;
          while (offset < chunk.length) offset += writeSync(fd, chunk, offset, chunk.length - offset);
          received += chunk.length;
          progress.update(received, expected);
        }
        progress.end();
        fsyncSync(fd);
        closeSync(fd);
        fd = -1;
        const { verifyBackupFile, BackupFileError } = await import('@smartlic/server');
        let header: ReturnType<typeof verifyBackupFile>['header'];
        try {
          ({ header } = verifyBackupFile(temp, 'The backup the server sent'));
        } catch (error) {
          if (error instanceof BackupFileError) throw new CliError(`${error.message} Nothing was written.`);
          throw error;
        }
        renameSync(temp, out);
        chmodSync(out, 0o600);
        syncDirectory(dirname(out));
        const result: BackupResult = {
          file: out,
          bytes: received,
          createdAt: new Date(header.createdAt).toISOString(),
          files: header.files.map(({ path, size }) => ({ path, size })),
        };
        print(result, flags, (r) =>
          [
            `Backup written to ${r.file} (${r.bytes} bytes, taken ${r.createdAt}): ${r.files.map((f) => f.path).join(', ')}.`,
            'It holds the private keys of the authority: keep it as safe as the data directory.',
            `Restore with: smartlic server --restore ${r.file} --data NEW_DIR`,
          ].join('\n'),
        );
      } catch (error) {
        if (fd >= 0) closeSync(fd);
        rmSync(temp, { force: true });
        throw error;
      }
    });
}

function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some file systems cannot fsync a directory; the rename is atomic all the same.
  }
}
