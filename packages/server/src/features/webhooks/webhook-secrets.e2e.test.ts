import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Migrator } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import { startServer } from '../../start-server.js';
import { openSqliteDatabase } from '../../storage/database.js';
import { migrationProvider } from '../../storage/migrations.js';
import { openPostgresDatabase } from '../../storage/postgres.js';
import { createTestDatabase, describeEachEngine } from '../../test-support/postgres.js';
import { makeTempDir } from '../../test-support/temp-dir.js';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';
import { SIGNATURE_HEADER, verifyWebhookSignature } from './webhook-signature.js';

/** A receiver on 127.0.0.1 answering 204, keeping what it got. */
async function startReceiver() {
  const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.statusCode = 204;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const storedSecrets = async (t: TestServer): Promise<string[]> =>
  (await t.inspect((db) => db.selectFrom('webhooks').select('secret').orderBy('created_at').execute())).map(
    (r) => r.secret,
  );

describeEachEngine('webhook secrets at rest', (engine) => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const receiver = async () => {
    const r = await startReceiver();
    cleanups.push(r.close);
    return r;
  };
  const tempDir = () => {
    const dir = makeTempDir();
    cleanups.push(dir.remove);
    return dir.path;
  };

  it('stores secrets encrypted with <data>/secrets.key (0600), and deliveries still verify with the secret', async () => {
    const hookReceiver = await receiver();
    const t = await startTestServer({ engine, dataDir: tempDir(), webhookAllowPrivate: true });
    cleanups.push(t.dispose);
    const secret = 'the-receivers-own-shared-secret';
    const { id: accountId } = await t.admin.createAccount('Sealed');
    const hook = await t.admin.ok<{ id: string; secret: string }>('POST', `/api/v1/accounts/${accountId}/webhooks`, {
      url: hookReceiver.url,
      secret,
    });
    expect(hook.secret).toBe(secret);
    const generated = await t.admin.ok<{ secret: string }>('POST', `/api/v1/accounts/${accountId}/webhooks`, {
      url: hookReceiver.url,
      events: ['summary.daily'],
    });
    const keyPath = join(t.dataDir, 'secrets.key');
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyPath)).toHaveLength(32);
    const stored = await storedSecrets(t);
    expect(stored).toHaveLength(2);
    for (const value of stored) {
      expect(value).toMatch(/^v1:[\w-]+:[\w-]+:[\w-]+$/);
      expect(value).not.toContain(secret);
      expect(value).not.toContain(generated.secret);
    }

    await t.admin.ok('POST', `/api/v1/webhooks/${hook.id}/test`, undefined, 202);
    await t.server.webhookJobs.runDue();
    expect(hookReceiver.received).toHaveLength(1);
    const [got] = hookReceiver.received;
    expect(verifyWebhookSignature(secret, got!.body, got!.headers[SIGNATURE_HEADER] as string)).toBe(true);
  });

  it('delivers for a secret stored in clear before encryption, and encrypts it at the next start', async () => {
    const hookReceiver = await receiver();
    const dataDir = tempDir();
    const secret = 'a-secret-stored-before-encryption';
    // A database as the previous release left it: migrated up to 0007, the secret in clear.
    const fresh = engine === 'postgres' ? await createTestDatabase() : undefined;
    if (fresh) cleanups.push(fresh.drop);
    const old = fresh ? await openPostgresDatabase(fresh.url) : openSqliteDatabase(join(dataDir, 'smartlic.db'));
    const migrated = await new Migrator({ db: old.db, provider: migrationProvider }).migrateTo(
      '0007-previous-id-certificate',
    );
    expect(migrated.error).toBeUndefined();
    const accountId = randomUUID();
    const webhookId = randomUUID();
    const deliveryId = randomUUID();
    const now = Date.now();
    await old.db
      .insertInto('smart_accounts')
      .values({ id: accountId, name: 'Old', domain: 'old.example', created_at: now })
      .execute();
    await old.db
      .insertInto('webhooks')
      .values({
        id: webhookId,
        account_id: accountId,
        url: hookReceiver.url,
        secret,
        events: '[]',
        created_at: now,
        disabled: 0,
      })
      .execute();
    const payload = JSON.stringify({ id: deliveryId, type: 'webhook.test', accountId });
    await old.db
      .insertInto('webhook_deliveries')
      .values({
        id: deliveryId,
        webhook_id: webhookId,
        event_type: 'webhook.test',
        payload,
        attempts: 0,
        created_at: now,
        next_attempt_at: now,
        status: 'pending',
        last_error: null,
        delivered_at: null,
      })
      .execute();
    await old.close();
    expect(existsSync(join(dataDir, 'secrets.key'))).toBe(false);

    const t = await startTestServer({
      engine,
      dataDir,
      webhookAllowPrivate: true,
      ...(fresh ? { dbUrl: fresh.url } : {}),
    });
    cleanups.push(t.stop);
    const [stored] = await storedSecrets(t);
    expect(stored).toMatch(/^v1:/);
    expect(stored).not.toContain(secret);
    t.clock.set(now + 1000);
    expect(await t.server.webhookJobs.runDue()).toMatchObject({ delivered: 1, failed: 0 });
    const [got] = hookReceiver.received;
    expect(got?.body).toBe(payload);
    expect(verifyWebhookSignature(secret, got!.body, got!.headers[SIGNATURE_HEADER] as string)).toBe(true);
  });

  it('refuses to start with a wrong, malformed or missing key once secrets are encrypted', async () => {
    const dataDir = tempDir();
    const t = await startTestServer({ engine, dataDir, webhookAllowPrivate: true });
    cleanups.push(t.dispose);
    const { id: accountId } = await t.admin.createAccount('Keyed');
    await t.admin.ok('POST', `/api/v1/accounts/${accountId}/webhooks`, { url: 'http://127.0.0.1:9/hook' });
    await t.stop();
    const keyPath = join(dataDir, 'secrets.key');
    const key = readFileSync(keyPath);
    const start = () => startServer({ dataDir, ...(t.dbUrl ? { dbUrl: t.dbUrl } : {}), port: 0, logLevel: 'silent' });

    writeFileSync(keyPath, randomBytes(32), { mode: 0o600 });
    await expect(start()).rejects.toThrow(
      `The secrets key ${keyPath} does not decrypt 1 of the 1 encrypted webhook secrets in the database`,
    );
    writeFileSync(keyPath, 'not a key\n');
    await expect(start()).rejects.toThrow(`The secrets key ${keyPath} must hold exactly 32 bytes, but holds 10`);
    rmSync(keyPath);
    await expect(start()).rejects.toThrow(`The secrets key ${keyPath} is missing`);
    expect(existsSync(keyPath)).toBe(false); // no new key that could never open the old secrets

    writeFileSync(keyPath, key, { mode: 0o600 });
    const again = await start();
    await again.close();
  });
});
