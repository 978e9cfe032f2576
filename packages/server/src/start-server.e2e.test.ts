import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '@smartlic/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { StartupError, startServer } from './start-server.js';
import { AdminClient } from './test-support/admin-client.js';
import { sendJson } from './test-support/http.js';
import {
  acquireTestDatabase,
  createTestDatabase,
  describeEachEngine,
  type LeasedDatabase,
  postgresUrl,
} from './test-support/postgres.js';
import { SimDevice } from './test-support/sim-device.js';
import { makeTempDir } from './test-support/temp-dir.js';
import { startTestServer } from './test-support/test-server.js';

const TAG = 'regid.2014-08.com.example.A';
const mode = (path: string) => statSync(path).mode & 0o777;

describeEachEngine('startServer', (engine) => {
  const dirs: Array<{ remove(): void }> = [];
  const databases: LeasedDatabase[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) dir.remove();
    for (const database of databases.splice(0)) await database.release();
  });
  const tempDir = () => {
    const dir = makeTempDir();
    dirs.push(dir);
    return dir.path;
  };
  /** The `dbUrl` option for a server of its own: a leased PostgreSQL database, or none (SQLite in its data directory). */
  const ownDatabase = async (): Promise<{ dbUrl?: string }> => {
    if (engine === 'sqlite') return {};
    const database = await acquireTestDatabase();
    databases.push(database);
    return { dbUrl: database.url };
  };

  it('keeps PKI, admin key, accounts, instances and usage across a restart', async () => {
    const dataDir = join(tempDir(), 'nested', 'data');
    const clock = new ManualClock();
    const first = await startTestServer({ engine, dataDir, clock });
    expect(first.server.adminKeyCreated).toBe(true);
    expect(first.server.adminKeyPath).toBe(join(dataDir, 'admin-api-key'));
    expect(first.server.rootCaPath).toBe(join(dataDir, 'pki', 'root-ca.pem'));
    expect(first.server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const { vaId } = await first.admin.setupVa('Acme');
    await first.admin.addLicense(vaId, { tag: TAG, count: 3 });
    const device = first.device();
    await device.register((await first.admin.createToken(vaId)).token);
    await device.authorize([{ tag: TAG, count: 2 }]);
    const accounts = await first.admin.request('GET', '/api/v1/accounts');
    const instances = await first.admin.listInstances(vaId);
    const key = readFileSync(first.server.adminKeyPath, 'utf8');
    const root = readFileSync(first.server.rootCaPath, 'utf8');
    const signing = readFileSync(join(dataDir, 'pki', 'signing.pem'), 'utf8');
    await first.stop();

    expect(key).toMatch(/^slk_[A-Za-z0-9_-]{43}$/);
    expect(mode(dataDir)).toBe(0o700);
    expect(mode(join(dataDir, 'pki'))).toBe(0o700);
    for (const file of ['admin-api-key', 'pki/root-ca.key', 'pki/signing.key'])
      expect(mode(join(dataDir, file))).toBe(0o600);

    clock.advance(60_000);
    const second = await startTestServer({ engine, dataDir, clock, ...(first.dbUrl ? { dbUrl: first.dbUrl } : {}) });
    try {
      expect(second.server.adminKeyCreated).toBe(false);
      expect(readFileSync(second.server.adminKeyPath, 'utf8')).toBe(key);
      expect(readFileSync(second.server.rootCaPath, 'utf8')).toBe(root);
      expect(readFileSync(join(dataDir, 'pki', 'signing.pem'), 'utf8')).toBe(signing);
      expect((await sendJson(`${second.url}/api/v1/pki/root-ca`)).body).toBe(root);
      expect((await second.admin.request('GET', '/api/v1/accounts')).body).toEqual(accounts.body);
      expect(await second.admin.listInstances(vaId)).toEqual(instances);
      expect(await second.admin.listLicenses(vaId)).toMatchObject([{ tag: TAG, inUse: 2, surplus: 1 }]);

      // The device carries on with the restarted server (same signing certificate, key reloaded).
      const resumed = Object.assign(new SimDevice({ url: second.url, clock, rootCaPem: root }, device.udi), {
        keys: device.keys,
        instanceId: device.instanceId,
        idCertSerial: device.idCertSerial,
        idCertPem: device.idCertPem,
      });
      resumed.signingCertSerial = device.signingCertSerial;
      await resumed.renewId();
      expect((await resumed.authorize([{ tag: TAG, count: 3 }])).status).toBe(200);
      expect(await second.admin.listLicenses(vaId)).toMatchObject([{ inUse: 3, surplus: 0 }]);
    } finally {
      await second.stop();
      await first.dispose();
    }
  });

  it('answers health and the root CA without a key, and everything else only with one', async () => {
    const t = await startTestServer({ engine });
    try {
      expect((await sendJson(`${t.url}/api/v1/health`)).body).toEqual({
        status: 'ok',
        mode: 'authority',
        version: expect.any(String),
      });
      const root = await fetch(`${t.url}/api/v1/pki/root-ca`);
      expect(root.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await root.text()).toBe(t.rootCaPem);
      const anonymous = await sendJson(`${t.url}/api/v1/accounts`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.body).toMatchObject({ code: 'UNAUTHENTICATED', requestId: expect.any(String) });
      const wrong = await new AdminClient(t.url, 'slk_wrong').request('GET', '/api/v1/accounts');
      expect(wrong.status).toBe(401);
      expect(wrong.body).toMatchObject({ code: 'UNAUTHENTICATED', message: 'This API key is not valid.' });
      const basic = await sendJson(`${t.url}/api/v1/accounts`, { headers: { authorization: 'Basic abc' } });
      expect(basic.status).toBe(401);
    } finally {
      await t.dispose();
    }
  });

  it('registers an admin key file whose hash the database lost, and does not recreate a deleted one', async () => {
    const dataDir = tempDir();
    const db = await ownDatabase();
    const first = await startServer({ dataDir, ...db, port: 0, logLevel: 'silent' });
    await first.close();
    // A key file placed by the operator (e.g. restored from a backup) is honoured.
    writeFileSync(join(dataDir, 'admin-api-key'), 'slk_restoredkeyrestoredkeyrestoredkeyrestored1\n', { mode: 0o644 });
    const second = await startServer({ dataDir, ...db, port: 0, logLevel: 'silent' });
    try {
      expect(second.adminKeyCreated).toBe(false);
      expect(mode(second.adminKeyPath)).toBe(0o600);
      const admin = new AdminClient(second.url, 'slk_restoredkeyrestoredkeyrestoredkeyrestored1');
      expect((await admin.request('GET', '/api/v1/accounts')).status).toBe(200);
    } finally {
      await second.close();
    }
    // An operator who moved the key elsewhere and deleted the file does not get a new one.
    rmSync(join(dataDir, 'admin-api-key'));
    const third = await startServer({ dataDir, ...db, port: 0, logLevel: 'silent' });
    try {
      expect(third.adminKeyCreated).toBe(false);
      expect(existsSync(third.adminKeyPath)).toBe(false);
    } finally {
      await third.close();
    }
  });

  it('refuses an upstream on the authority and bad options with clear errors', async () => {
    const dataDir = tempDir();
    await expect(startServer({ dataDir, upstream: 'https://up.example' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringContaining('only a satellite has an upstream'),
    });
    await expect(startServer({ dataDir, dbUrl: 'postgres://u:secret@db' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringContaining('"postgres://u:***@db" names no database'),
    });
    await expect(startServer({ dataDir, port: 70_000 })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringContaining('port'),
    });
  });

  it.skipIf(engine !== 'sqlite')('uses a SQLite database named by --db', async () => {
    const dataDir = tempDir();
    const dbFile = join(tempDir(), 'elsewhere.db');
    const server = await startServer({ dataDir, dbUrl: `sqlite:${dbFile}`, port: 0, logLevel: 'silent' });
    try {
      expect(statSync(dbFile).isFile()).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('fails clearly when the port is taken, and releases the database', async () => {
    const t = await startTestServer({ engine });
    try {
      const port = Number(new URL(t.url).port);
      const dataDir = tempDir();
      const db = await ownDatabase();
      await expect(startServer({ dataDir, ...db, port, logLevel: 'silent' })).rejects.toThrow(
        `Port ${port} on 127.0.0.1 is already in use (is another smartlic server running?): stop it, or choose another port with --port.`,
      );
      // The failed start closed its database: a new start on the same directory works.
      const again = await startServer({ dataDir, ...db, port: 0, logLevel: 'silent' });
      await again.close();
    } finally {
      await t.dispose();
    }
  });
});

describe.skipIf(!postgresUrl())('startServer on PostgreSQL', () => {
  const dirs: Array<{ remove(): void }> = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) dir.remove();
  });
  const startWith = (dbUrl: string) => {
    const dir = makeTempDir();
    dirs.push(dir);
    return startServer({ dataDir: dir.path, dbUrl, port: 0, logLevel: 'silent' });
  };
  const admin = () => new URL(postgresUrl()!);

  it('fails with one sentence when PostgreSQL cannot be reached', async () => {
    const url = admin();
    url.port = '1';
    url.pathname = '/smartlic';
    const error = await startWith(url.toString()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartupError);
    expect((error as Error).message).toBe(
      'Cannot connect to PostgreSQL at 127.0.0.1:1: the connection was refused (is PostgreSQL running there, and is that its address in --db?).',
    );
  });

  it('fails with one sentence when the login is refused', async () => {
    const url = admin();
    url.password = 'not-the-password';
    const error = await startWith(url.toString()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartupError);
    expect((error as Error).message).toMatch(/^PostgreSQL at 127\.0\.0\.1:\d+ refused the login of user "postgres" /);
    expect((error as Error).message).not.toContain('not-the-password');
  });

  it('fails with one sentence when the database does not exist', async () => {
    const url = admin();
    url.pathname = '/smartlic_missing';
    const error = await startWith(url.toString()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartupError);
    expect((error as Error).message).toMatch(
      /^The PostgreSQL database "smartlic_missing" does not exist at 127\.0\.0\.1:\d+: create it \(createdb smartlic_missing\) or fix its name in --db\.$/,
    );
  });

  it('migrates a fresh database once when two servers start on it together', async () => {
    const database = await createTestDatabase();
    try {
      const [a, b] = await Promise.all([startWith(database.url), startWith(database.url)]);
      try {
        // One of them created the owner key (the other's attempt lost and left no file behind),
        // and both serve one schema: what one writes, the other reads.
        const [creator, other] = a.adminKeyCreated ? [a, b] : [b, a];
        expect([a.adminKeyCreated, b.adminKeyCreated].sort()).toEqual([false, true]);
        expect(existsSync(other.adminKeyPath)).toBe(false);
        const key = readFileSync(creator.adminKeyPath, 'utf8').trim();
        const adminA = new AdminClient(creator.url, key);
        const adminB = new AdminClient(other.url, key);
        const { vaId } = await adminA.setupVa('Shared');
        await adminA.addLicense(vaId, { tag: TAG, count: 4 });
        expect(await adminB.listLicenses(vaId)).toMatchObject([{ tag: TAG, quantity: 4, inUse: 0 }]);
      } finally {
        await a.close();
        await b.close();
      }
    } finally {
      await database.drop();
    }
  });
});
