import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTempDir } from '../../test-support/temp-dir.js';
import { BackupFileError, type BackupHeader, headerBytes, verifyBackupFile } from './backup-archive.js';
import { restoreBackup } from './backup-restore.js';

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('backup archives', () => {
  const dirs: Array<{ path: string; remove(): void }> = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) d.remove();
  });

  /** Writes an archive of `files` whose header says `header` (by default, the truth). */
  const archive = (files: Array<[string, string]>, edit: (h: BackupHeader) => void = () => {}) => {
    const dir = makeTempDir();
    dirs.push(dir);
    const datas = files.map(([, text]) => Buffer.from(text));
    const header: BackupHeader = {
      createdAt: 1,
      files: files.map(([path], i) => ({ path, size: datas[i]!.length, sha256: sha(datas[i]!), mode: 0o600 })),
    };
    edit(header);
    const file = join(dir.path, 'b.backup');
    writeFileSync(file, Buffer.concat([headerBytes(header), ...datas]));
    return { file, dir: dir.path };
  };

  it('reads back what it holds, and restores it with each mode', () => {
    const { file, dir } = archive([
      ['smartlic.db', 'db'],
      ['pki/root-ca.pem', 'cert'],
      ['secrets.key', 'k'],
    ]);
    const { header, offsets } = verifyBackupFile(file);
    expect(header.files.map((f) => f.path)).toEqual(['smartlic.db', 'pki/root-ca.pem', 'secrets.key']);
    expect(offsets[1]! - offsets[0]!).toBe(2);
    restoreBackup(file, join(dir, 'restored'));
    expect(readFileSync(join(dir, 'restored', 'pki', 'root-ca.pem'), 'utf8')).toBe('cert');
    expect(statSync(join(dir, 'restored', 'secrets.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'restored', 'pki')).mode & 0o777).toBe(0o700);
    expect(existsSync(join(dir, 'restored', 'admin-api-key'))).toBe(false);
  });

  it.each([
    ['../evil', 'a path outside the data directory'],
    ['/etc/passwd', 'an absolute path'],
    ['pki/../../x', 'a path climbing out of pki/'],
    ['node_modules/x', 'a path that is not a data file'],
  ])('refuses an archive holding %s (%s), even with right checksums, writing nothing', (path) => {
    const { file, dir } = archive([
      ['smartlic.db', 'db'],
      [path, 'x'],
    ]);
    expect(() => restoreBackup(file, join(dir, 'restored'))).toThrow(
      new BackupFileError(`The backup file ${file} is damaged: its header is not valid.`),
    );
    expect(readdirSync(dir)).toEqual(['b.backup']);
  });

  it('refuses a header whose sizes do not add up, a duplicate path, or no database', () => {
    const longer = archive([['smartlic.db', 'db']], (h) => {
      h.files[0]!.size = 3;
    });
    expect(() => verifyBackupFile(longer.file)).toThrow(/is truncated \(\d+ of \d+ bytes\)/);
    const shorter = archive([['smartlic.db', 'db']], (h) => {
      h.files[0]!.size = 1;
    });
    expect(() => verifyBackupFile(shorter.file)).toThrow(/has bytes after its last file/);
    const twice = archive([
      ['smartlic.db', 'db'],
      ['smartlic.db', 'db'],
    ]);
    expect(() => verifyBackupFile(twice.file)).toThrow(/its header is not valid/);
    const noDb = archive([['secrets.key', 'k']]);
    expect(() => verifyBackupFile(noDb.file)).toThrow(/its header is not valid/);
  });
});
