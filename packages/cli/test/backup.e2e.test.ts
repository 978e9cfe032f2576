import { copyFile, mkdir, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock } from '@smartlic/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSTGRES_BACKUP_MESSAGE } from '../../server/src/features/backup/backup-service.js';
import { AdminClient } from '../../server/src/test-support/admin-client.js';
import { postgresUrl } from '../../server/src/test-support/postgres.js';
import { SimDevice } from '../../server/src/test-support/sim-device.js';
import { runCli, type ServerProcess, serverDatabase, startServerProcess, tempDir } from './harness.js';

const TAG = 'regid.2014-08.com.example.A';

/**
 * `smartlic admin backup` taken while devices register and authorize, restored with
 * `smartlic server --restore` into a new data directory: the restored server starts, holds
 * every write acknowledged before the backup began, and its devices still authorize (same
 * PKI). A backup that is truncated or damaged, or a non-empty data directory, is refused with
 * one sentence and nothing is changed.
 */
describe('backup and restore', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let server: ServerProcess;
  let restored: ServerProcess | undefined;
  let backupFile: string;
  const before: Array<{ device: SimDevice; count: number }> = [];
  let vaId: string;
  let backupJson: { file: string; bytes: number; files: Array<{ path: string; size: number }> };
  let refusedAdmin: Awaited<ReturnType<typeof runCli>>;

  beforeAll(async () => {
    dir = await tempDir('smartlic-backup-');
    server = await startServerProcess(join(dir.path, 'data'), {}, 0, ['--rate-limit', 'off']);
    const admin = new AdminClient(server.url, server.apiKey);
    ({ vaId } = await admin.setupVa());
    await admin.addLicense(vaId, { tag: TAG, count: 10_000 });
    const { token } = await admin.createToken(vaId, { maxUses: 10_000 });
    const rootCaPem = await readFile(server.rootCaPath, 'utf8');
    const ctx = { url: server.url, clock: systemClock, rootCaPem };
    let n = 0;
    const newDevice = () => new SimDevice(ctx, { pid: 'C9300-24UX', sn: `BK${++n}` });
    // Acknowledged before the backup begins.
    for (let i = 0; i < 12; i++) {
      const device = newDevice();
      expect((await device.register(token)).status).toBe(200);
      const count = 1 + (i % 4);
      expect((await device.authorize([{ tag: TAG, count }])).status).toBe(200);
      before.push({ device, count });
    }
    // Traffic in flight while the backup is taken.
    let running = true;
    let round = 0;
    const traffic = (async () => {
      while (running) {
        const device = newDevice();
        await device.register(token);
        await device.authorize([{ tag: TAG, count: 1 + (round++ % 3) }]);
        await before[round % before.length]!.device.authorize([
          { tag: TAG, count: before[round % before.length]!.count },
        ]);
      }
    })();
    backupFile = join(dir.path, 'smartlic.backup');
    const result = await runCli(['admin', 'backup', '--out', backupFile, '--json'], {
      SMARTLIC_SERVER: server.url,
      SMARTLIC_API_KEY: server.apiKey,
    });
    running = false;
    await traffic;
    expect(round, 'devices registered and authorized while the backup was taken').toBeGreaterThan(2);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    backupJson = JSON.parse(result.stdout);
    // Only the owner key may take a backup: an account admin's key is refused, and no file appears.
    const { accountId } = await admin.setupVa('Other');
    const accountAdmin = await admin.ok<{ apiKey: string }>('POST', '/api/v1/users', {
      email: 'admin@other.example',
      accountId,
      role: 'admin',
    });
    refusedAdmin = await runCli(['admin', 'backup', '--out', join(dir.path, 'refused.backup')], {
      SMARTLIC_SERVER: server.url,
      SMARTLIC_API_KEY: accountAdmin.apiKey,
    });
    await server.stop();
  }, 120_000);
  afterAll(async () => {
    await restored?.stop();
    await server?.stop();
    await dir?.cleanup();
  });

  it('writes one file, mode 0600, with the database, pki/, secrets.key, admin-api-key and admin-password, and no temporary file', async () => {
    expect((await stat(backupFile)).mode & 0o777).toBe(0o600);
    expect(backupJson.file).toBe(backupFile);
    expect(backupJson.bytes).toBe((await stat(backupFile)).size);
    expect(backupJson.files.map((f) => f.path).sort()).toEqual(
      [
        'admin-api-key',
        'admin-password',
        'pki/root-ca.key',
        'pki/root-ca.pem',
        'pki/signing.key',
        'pki/signing.pem',
        'secrets.key',
        'smartlic.db',
      ].sort(),
    );
    expect((await readdir(dir.path)).filter((name) => name.endsWith('.tmp') || name === 'refused.backup')).toEqual([]);
    expect(refusedAdmin.code).toBe(1);
    expect(refusedAdmin.stderr).toMatch(/^smartlic: [^\n]*\.\n$/);
    // No temporary copy of the database was left in the data directory.
    expect((await readdir(join(dir.path, 'data'))).filter((name) => name.startsWith('.backup-'))).toEqual([]);
  });

  it('refuses a truncated or damaged backup, and a non-empty data directory, with one sentence, changing nothing', async () => {
    const truncated = join(dir.path, 'truncated.backup');
    await copyFile(backupFile, truncated);
    await truncate(truncated, (await stat(backupFile)).size - 100);
    const damaged = join(dir.path, 'damaged.backup');
    const bytes = await readFile(backupFile);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    await writeFile(damaged, bytes);
    const notBackup = join(dir.path, 'not.backup');
    await writeFile(notBackup, 'hello');
    const cases: Array<[string, RegExp]> = [
      [truncated, /^smartlic: The backup file .* is truncated \(\d+ of \d+ bytes\)\.\n$/],
      [damaged, /^smartlic: The backup file .* is damaged: smartlic\.db does not match its checksum\.\n$/],
      [notBackup, /^smartlic: The backup file .* is not a smartlic backup .*\.\n$/],
      [join(dir.path, 'missing.backup'), /^smartlic: Cannot read the backup file .* \(ENOENT\)\.\n$/],
    ];
    for (const [file, message] of cases) {
      const target = join(dir.path, 'never');
      const result = await runCli(['server', '--restore', file, '--data', target, '--port', '0']);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(message);
      await expect(stat(target)).rejects.toThrow(/ENOENT/);
    }
    const full = join(dir.path, 'full');
    await mkdir(full);
    await writeFile(join(full, 'keep.txt'), 'mine');
    const refused = await runCli(['server', '--restore', backupFile, '--data', full, '--port', '0']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `smartlic: The data directory ${full} is not empty: restore into a new or empty directory (nothing was changed).\n`,
    );
    expect(await readdir(full)).toEqual(['keep.txt']);
    const postgres = await runCli([
      'server',
      '--restore',
      backupFile,
      '--db',
      'postgres://127.0.0.1:1/x',
      '--port',
      '0',
    ]);
    expect(postgres.code).toBe(1);
    expect(postgres.stderr).toMatch(/pg_dump.*pki\/, secrets\.key, admin-api-key and admin-password/);
    // Nothing left beside the directories either.
    expect((await readdir(dir.path)).filter((name) => name.endsWith('.restore.tmp'))).toEqual([]);
  }, 60_000);

  it('restores into an empty directory; the server starts with every acknowledged write, and its devices authorize', async () => {
    const target = join(dir.path, 'restored');
    await mkdir(target);
    restored = await startServerProcess(target, {}, 0, ['--restore', backupFile]);
    expect(restored.output()).toMatch(/Restored 8 files of the backup taken/);
    expect(restored.apiKey).toBe(server.apiKey);
    expect(await readFile(restored.rootCaPath, 'utf8')).toBe(await readFile(server.rootCaPath, 'utf8'));
    expect((await stat(join(target, 'pki'))).mode & 0o777).toBe(0o700);
    expect((await stat(join(target, 'secrets.key'))).mode & 0o777).toBe(0o600);
    const admin = new AdminClient(restored.url, restored.apiKey);
    const instances = await admin.listInstances(vaId);
    const byId = new Map(instances.map((i) => [i.id, i]));
    for (const { device, count } of before) {
      const instance = byId.get(device.instanceId!);
      expect(instance, `instance ${device.instanceId} registered before the backup`).toBeDefined();
      expect(instance!.usage.find((u) => u.tag === TAG)?.count).toBe(count);
    }
    // The restored authority is the same authority: devices registered with the original keep working.
    const rootCaPem = await readFile(restored.rootCaPath, 'utf8');
    for (const { device } of before.slice(0, 4)) {
      const moved = device.on({ url: restored.url, clock: systemClock, rootCaPem });
      const answer = await moved.authorize([{ tag: TAG, count: 2 }]);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    }
    const licenses = await admin.listLicenses(vaId);
    const instancesNow = await admin.listInstances(vaId);
    expect(licenses[0]!.inUse).toBe(
      instancesNow.reduce((sum, i) => sum + (i.usage.find((u) => u.tag === TAG)?.count ?? 0), 0),
    );
  }, 60_000);
});

/** On PostgreSQL the database is backed up with pg_dump: both commands say so in one sentence, writing nothing. */
describe.skipIf(!postgresUrl())('backup and restore on PostgreSQL', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let database: Awaited<ReturnType<typeof serverDatabase>>;
  let server: ServerProcess;

  beforeAll(async () => {
    dir = await tempDir('smartlic-backup-pg-');
    database = await serverDatabase('postgres');
    server = await startServerProcess(join(dir.path, 'data'), {}, 0, [], { db: database.db });
  });
  afterAll(async () => {
    await server?.stop();
    await database?.release();
    await dir?.cleanup();
  });

  it('admin backup answers the pg_dump advice and writes no file', async () => {
    const out = join(dir.path, 'pg.backup');
    const result = await runCli(['admin', 'backup', '--out', out], {
      SMARTLIC_SERVER: server.url,
      SMARTLIC_API_KEY: server.apiKey,
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`smartlic: ${POSTGRES_BACKUP_MESSAGE}\n`);
    expect((await readdir(dir.path)).filter((name) => name.includes('pg.backup'))).toEqual([]);
  });

  it('server --restore with a PostgreSQL --db says to restore with PostgreSQL tools, changing nothing', async () => {
    const target = join(dir.path, 'restore-target');
    const result = await runCli([
      'server',
      '--restore',
      join(dir.path, 'any.backup'),
      '--data',
      target,
      '--db',
      database.db!,
      '--port',
      '0',
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toBe(`smartlic: --restore restores SQLite backups only. ${POSTGRES_BACKUP_MESSAGE}\n`);
    expect(await readdir(dir.path)).not.toContain('restore-target');
  });
});
