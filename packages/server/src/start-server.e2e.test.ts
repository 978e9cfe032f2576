import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock, SmartlicError } from '@smartlic/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer } from './start-server.js';
import { AdminClient } from './test-support/admin-client.js';
import { sendJson } from './test-support/http.js';
import { SimDevice } from './test-support/sim-device.js';
import { makeTempDir } from './test-support/temp-dir.js';
import { startTestServer } from './test-support/test-server.js';

const TAG = 'regid.2014-08.com.example.A';
const mode = (path: string) => statSync(path).mode & 0o777;

describe('startServer', () => {
  const dirs: Array<{ remove(): void }> = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) dir.remove();
  });
  const tempDir = () => {
    const dir = makeTempDir();
    dirs.push(dir);
    return dir.path;
  };

  it('keeps PKI, admin key, accounts, instances and usage across a restart', async () => {
    const dataDir = join(tempDir(), 'nested', 'data');
    const clock = new ManualClock();
    const first = await startTestServer({ dataDir, clock });
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
    const second = await startTestServer({ dataDir, clock });
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
    }
  });

  it('answers health and the root CA without a key, and everything else only with one', async () => {
    const t = await startTestServer();
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
    const first = await startServer({ dataDir, port: 0, logLevel: 'silent' });
    await first.close();
    // A key file placed by the operator (e.g. restored from a backup) is honoured.
    writeFileSync(join(dataDir, 'admin-api-key'), 'slk_restoredkeyrestoredkeyrestoredkeyrestored1\n', { mode: 0o644 });
    const second = await startServer({ dataDir, port: 0, logLevel: 'silent' });
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
    const third = await startServer({ dataDir, port: 0, logLevel: 'silent' });
    try {
      expect(third.adminKeyCreated).toBe(false);
      expect(existsSync(third.adminKeyPath)).toBe(false);
    } finally {
      await third.close();
    }
  });

  it('refuses satellite mode, PostgreSQL and bad options with clear errors', async () => {
    const dataDir = tempDir();
    await expect(startServer({ dataDir, mode: 'satellite' })).rejects.toThrow(
      new SmartlicError('NOT_IMPLEMENTED', { message: 'Satellite mode is not implemented yet.' }),
    );
    await expect(startServer({ dataDir, dbUrl: 'postgres://u:secret@db/smartlic' })).rejects.toMatchObject({
      code: 'NOT_IMPLEMENTED',
      message: expect.stringMatching(/PostgreSQL is not supported yet \(postgres:\/\/u:\*\*\*@db\/smartlic\)/),
    });
    await expect(startServer({ dataDir, port: 70_000 })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringContaining('port'),
    });
  });

  it('uses a SQLite database named by --db', async () => {
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
    const t = await startTestServer();
    try {
      const port = Number(new URL(t.url).port);
      const dataDir = tempDir();
      await expect(startServer({ dataDir, port, logLevel: 'silent' })).rejects.toThrow(
        `Port ${port} on 127.0.0.1 is already in use (is another smartlic server running?): stop it, or choose another port with --port.`,
      );
      // The failed start closed its database: a new start on the same directory works.
      const again = await startServer({ dataDir, port: 0, logLevel: 'silent' });
      await again.close();
    } finally {
      await t.dispose();
    }
  });
});
