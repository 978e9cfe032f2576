import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { DAY } from '@smartlic/protocol';
import { Migrator } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import { OPENAPI_PATH } from '../../http/openapi.js';
import { openSqliteDatabase } from '../../storage/database.js';
import { migrationProvider } from '../../storage/migrations.js';
import { openPostgresDatabase } from '../../storage/postgres.js';
import { AdminClient } from '../../test-support/admin-client.js';
import { sendJson } from '../../test-support/http.js';
import { createTestDatabase, describeEachEngine } from '../../test-support/postgres.js';
import { errorOf } from '../../test-support/sim-device.js';
import { makeTempDir } from '../../test-support/temp-dir.js';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');

const storedTokens = (t: TestServer) =>
  t.inspect((db) =>
    db.selectFrom('tokens').select(['id', 'token', 'token_hash']).orderBy('created_at').orderBy('id').execute(),
  );

/**
 * Registration tokens are stored as a SHA-256 (what registration looks them up by) and their
 * value encrypted with the secrets key; only roles that may create tokens see the value.
 */
describeEachEngine('registration token values', (engine) => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const server = async (at?: { dataDir: string; dbUrl: string | undefined }): Promise<TestServer> => {
    const t = await startTestServer({
      engine,
      ...(at?.dataDir ? { dataDir: at.dataDir } : {}),
      ...(at?.dbUrl ? { dbUrl: at.dbUrl } : {}),
    });
    cleanups.push(at ? t.stop : t.dispose);
    return t;
  };
  const userKey = async (t: TestServer, accountId: string, vaId: string, role: string) =>
    new AdminClient(
      t.url,
      (
        await t.admin.ok<{ apiKey: string }>('POST', '/api/v1/users', {
          email: `${role}-${randomUUID().slice(0, 8)}@acme.example`,
          accountId,
          role,
          vaId,
        })
      ).apiKey,
    );

  it('are stored hashed and encrypted, shown to users and admins, and to viewers nowhere', async () => {
    const t = await server();
    const { accountId, vaId } = await t.admin.setupVa('Acme');
    const created = await t.admin.createToken(vaId, { description: 'lab' });
    const [stored] = await storedTokens(t);
    expect(stored?.token).toMatch(/^v1:[\w-]+:[\w-]+:[\w-]+$/);
    expect(stored?.token).not.toContain(created.token);
    expect(stored?.token_hash).toBe(sha256(created.token));

    const viewer = await userKey(t, accountId, vaId, 'viewer');
    const user = await userKey(t, accountId, vaId, 'user');
    const admin = await userKey(t, accountId, vaId, 'admin');
    for (const reader of [user, admin]) {
      expect((await reader.listTokens(vaId)).map((x) => x.token)).toEqual([created.token]);
    }
    const seen = await viewer.listTokens(vaId);
    expect(seen).toEqual([
      expect.objectContaining({ id: created.id, token: null, tokenHint: `…${created.token.slice(-4)}` }),
    ]);
    expect('token' in seen[0]!).toBe(true);
    expect(errorOf(await viewer.request('POST', `/api/v1/virtual-accounts/${vaId}/tokens`, {})).code).toBe('FORBIDDEN');
    expect(errorOf(await viewer.request('POST', `/api/v1/tokens/${created.id}/revoke`)).code).toBe('FORBIDDEN');

    // A device registers with it (looked up by its hash), and the viewer finds the value in no answer.
    const device = t.device();
    expect((await device.register(created.token)).status).toBe(200);
    const doc = await sendJson<{ paths: Record<string, Record<string, unknown>> }>(`${t.url}${OPENAPI_PATH}`);
    const fill: Record<string, string> = { vaId, accountId, kind: 'instances' };
    const readable = Object.entries(doc.body.paths)
      .filter(([, ops]) => 'get' in ops)
      .map(([path]) => path.replace(/\{(\w+)\}/g, (_, name: string) => fill[name] ?? `:${name}`))
      .filter((path) => path.startsWith('/api/v1/') && !path.includes(':'));
    expect(readable).toEqual(
      expect.arrayContaining([`/api/v1/virtual-accounts/${vaId}/tokens`, `/api/v1/virtual-accounts/${vaId}/events`]),
    );
    for (const kind of ['licenses', 'instances', 'usage']) {
      readable.push(`/api/v1/virtual-accounts/${vaId}/reports/${kind}`);
    }
    let answered = 0;
    for (const path of readable) {
      const answer = await viewer.request('GET', path);
      if (answer.status === 200) answered++;
      expect(JSON.stringify(answer.body) ?? '', path).not.toContain(created.token);
    }
    expect(answered).toBeGreaterThan(5);
  });

  it('keep working for tokens created before they were hashed, which the next start encrypts', async () => {
    const dir = makeTempDir();
    cleanups.push(dir.remove);
    // A database as the previous release left it: migrated up to 0008, the token in clear.
    const fresh = engine === 'postgres' ? await createTestDatabase() : undefined;
    if (fresh) cleanups.push(fresh.drop);
    const old = fresh ? await openPostgresDatabase(fresh.url) : openSqliteDatabase(join(dir.path, 'smartlic.db'));
    const migrated = await new Migrator({ db: old.db, provider: migrationProvider }).migrateTo(
      '0008-webhook-secrets-at-rest',
    );
    expect(migrated.error).toBeUndefined();
    const now = Date.now();
    const [accountId, vaId, tokenId] = [randomUUID(), randomUUID(), randomUUID()];
    const value = `T${'a'.repeat(60)}Old1`;
    await old.db
      .insertInto('smart_accounts')
      .values({ id: accountId, name: 'Old', domain: 'old.example', created_at: now })
      .execute();
    await old.db
      .insertInto('virtual_accounts')
      .values({ id: vaId, account_id: accountId, name: 'Lab', created_at: now })
      .execute();
    // Columns of the old schema only (no token_hash yet).
    await old.db
      .insertInto('tokens')
      .values({
        id: tokenId,
        va_id: vaId,
        token: value,
        description: 'old',
        created_at: now,
        expires_at: now + 30 * DAY,
        max_uses: null,
        uses: 0,
        export_controlled: 0,
        revoked_at: null,
      } as never)
      .execute();
    await old.close();

    const at = { dataDir: dir.path, dbUrl: fresh?.url };
    const t = await server(at);
    t.clock.set(now + 1000);
    const [stored] = await storedTokens(t);
    expect(stored).toMatchObject({ id: tokenId, token_hash: sha256(value) });
    expect(stored?.token).toMatch(/^v1:/);
    expect(stored?.token).not.toContain(value);
    expect((await t.admin.listTokens(vaId)).map((x) => [x.id, x.token])).toEqual([[tokenId, value]]);
    const device = t.device();
    expect((await device.register(value)).status).toBe(200);
    expect((await t.admin.listTokens(vaId))[0]?.uses).toBe(1);
    const wrong = await t.device().register(`${value.slice(0, -1)}2`);
    expect(errorOf(wrong).code).toBe('TOKEN_INVALID');

    // And a restart opens them with the same key.
    await t.stop();
    const again = await server(at);
    expect((await again.admin.listTokens(vaId))[0]?.token).toBe(value);
  });
});
