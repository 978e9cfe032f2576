import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ApiKeyCreated, UserCreated as Created, ApiKeyView as Key } from '../../index.js';
import { AdminClient } from '../../test-support/admin-client.js';
import { describeEachEngine } from '../../test-support/postgres.js';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';

/** Issue 4 item 1: users, roles, per-user API keys (hashed, revocable, last used). */
describeEachEngine('users and API keys', (engine) => {
  let t: TestServer;
  let accountId: string;
  let labId: string;

  beforeAll(async () => {
    t = await startTestServer({ engine });
    accountId = (await t.admin.createAccount('Acme')).id;
    labId = (await t.admin.createVa(accountId, 'Lab')).id;
  });
  afterAll(() => t.dispose());

  it('creates a user with a role and a key shown once, and grants an existing user more roles', async () => {
    const ann = await t.admin.ok<Created>('POST', '/api/v1/users', {
      email: 'Ann@Acme.example',
      accountId,
      role: 'viewer',
    });
    expect(ann).toMatchObject({ email: 'ann@acme.example', created: true });
    expect(ann.apiKey).toMatch(/^slk_/);
    const again = await t.admin.ok<Created>('POST', '/api/v1/users', {
      email: 'ann@acme.example',
      accountId,
      role: 'admin',
      vaId: labId,
    });
    expect(again).toMatchObject({ id: ann.id, created: false });
    expect(again.apiKey).not.toBe(ann.apiKey);

    const users = await t.admin.ok<unknown[]>('GET', `/api/v1/accounts/${accountId}/users`);
    expect(users).toMatchObject([
      {
        id: ann.id,
        email: 'ann@acme.example',
        roles: [
          { accountId, accountName: 'Acme', vaId: null, vaName: null, role: 'viewer' },
          { accountId, accountName: 'Acme', vaId: labId, vaName: 'Lab', role: 'admin' },
        ],
      },
    ]);

    const db = await t.admin.ok<Array<{ type: string; actor: string }>>(
      'GET',
      `/api/v1/accounts/${accountId}/events?type=user.created,user.role-granted`,
    );
    expect(db).toMatchObject({ items: [{ type: 'user.role-granted' }, { type: 'user.created' }] });
  });

  it('lets a user list and make their own keys, never showing secrets, with the last use', async () => {
    const bob = await t.admin.ok<Created>('POST', '/api/v1/users', {
      email: 'bob@acme.example',
      accountId,
      role: 'user',
    });
    const asBob = new AdminClient(t.url, bob.apiKey);
    await asBob.ok('GET', `/api/v1/virtual-accounts/${labId}/licenses`);
    const made = await asBob.ok<ApiKeyCreated>('POST', `/api/v1/users/${bob.id}/api-keys`, { name: 'ci' });
    expect(made.apiKey).toMatch(/^slk_/);
    const keys = await asBob.ok<Key[]>('GET', `/api/v1/users/${bob.id}/api-keys`);
    expect(keys.map((k) => k.name)).toEqual(['bob@acme.example', 'ci']);
    expect(keys[0]!.lastUsedAt).toBe(new Date(t.clock.now()).toISOString());
    expect(keys[1]!.lastUsedAt).toBeNull();
    expect(JSON.stringify(keys)).not.toContain('slk_');

    const revoked = await asBob.ok<Key>('POST', `/api/v1/api-keys/${made.id}/revoke`, undefined, 200);
    expect(revoked.revokedAt).not.toBeNull();
    const refused = await new AdminClient(t.url, made.apiKey).request<{ code: string; message: string }>(
      'GET',
      '/api/v1/accounts',
    );
    expect(refused.status).toBe(401);
    expect(refused.body.message).toBe('This API key has been revoked.');
  });

  it("lets a VA admin mint a key for the account's admin that carries nothing beyond that VA", async () => {
    const shopId = (await t.admin.createVa(accountId, 'Shop')).id;
    const labAdmin = await t.admin.ok<Created>('POST', '/api/v1/users', {
      email: 'lab-admin@acme.example',
      accountId,
      role: 'admin',
      vaId: labId,
    });
    const boss = await t.admin.ok<Created>('POST', '/api/v1/users', {
      email: 'boss@acme.example',
      accountId,
      role: 'admin',
    });
    await t.admin.ok('POST', '/api/v1/users', { email: 'boss@acme.example', accountId, role: 'viewer', vaId: labId });
    const made = await new AdminClient(t.url, labAdmin.apiKey).ok<ApiKeyCreated>(
      'POST',
      `/api/v1/users/${boss.id}/api-keys`,
      {},
    );
    expect(made.scope).toEqual({ accountId, vaId: labId });
    const asBossInLab = new AdminClient(t.url, made.apiKey);
    expect((await asBossInLab.request('GET', `/api/v1/virtual-accounts/${labId}/licenses`)).status).toBe(200);
    expect((await asBossInLab.request('GET', `/api/v1/virtual-accounts/${shopId}/licenses`)).status).toBe(404);
    expect((await asBossInLab.request('GET', `/api/v1/accounts/${accountId}/users`)).status).toBe(403);
    const grantAccountWide = await asBossInLab.request('POST', '/api/v1/users', {
      email: 'lab-admin@acme.example',
      accountId,
      role: 'admin',
    });
    expect(grantAccountWide.status).toBe(403);
    // The boss's own key still carries the whole account.
    expect(
      (await new AdminClient(t.url, boss.apiKey).request('GET', `/api/v1/accounts/${accountId}/users`)).status,
    ).toBe(200);
  });

  it('asks an admin of several places of a user to name the one a new key is for', async () => {
    const gamma = (await t.admin.createAccount('Gamma')).id;
    const both = await t.admin.ok<Created>('POST', '/api/v1/users', {
      email: 'both@x.example',
      accountId,
      role: 'admin',
    });
    await t.admin.ok('POST', '/api/v1/users', { email: 'both@x.example', accountId: gamma, role: 'admin' });
    const erin = await t.admin.ok<Created>('POST', '/api/v1/users', {
      email: 'erin@x.example',
      accountId,
      role: 'user',
    });
    await t.admin.ok('POST', '/api/v1/users', { email: 'erin@x.example', accountId: gamma, role: 'viewer' });
    const admin = new AdminClient(t.url, both.apiKey);
    const ambiguous = await admin.request<{ fields: Record<string, string[]> }>(
      'POST',
      `/api/v1/users/${erin.id}/api-keys`,
      {},
    );
    expect(ambiguous.status).toBe(400);
    expect(ambiguous.body.fields.accountId?.[0]).toMatch(/name one with accountId/);
    const inGamma = await admin.ok<Key>('POST', `/api/v1/users/${erin.id}/api-keys`, { accountId: gamma });
    expect(inGamma.scope).toEqual({ accountId: gamma, vaId: null });
    const inLab = await admin.ok<Key>('POST', `/api/v1/users/${erin.id}/api-keys`, { accountId, vaId: labId });
    expect(inLab.scope).toEqual({ accountId, vaId: labId });
    // Listed: the keys scoped inside the caller's places, never erin's unscoped one.
    const listed = await admin.ok<Key[]>('GET', `/api/v1/users/${erin.id}/api-keys`);
    expect(listed.map((k) => k.id).sort()).toEqual([inGamma.id, inLab.id].sort());
    expect((await admin.request('POST', `/api/v1/api-keys/${erin.keyId}/revoke`)).status).toBe(404);
    expect((await admin.request('POST', `/api/v1/api-keys/${inGamma.id}/revoke`)).status).toBe(200);
  });

  it('refuses a VA of another account, a bad role and a bad e-mail address', async () => {
    const other = (await t.admin.createAccount('Beta')).id;
    const wrong = await t.admin.request<{ code: string }>('POST', '/api/v1/users', {
      email: 'c@acme.example',
      accountId: other,
      role: 'user',
      vaId: labId,
    });
    expect(wrong.status).toBe(400);
    const bad = await t.admin.request<{ fields: Record<string, string[]> }>('POST', '/api/v1/users', {
      email: 'not an address',
      accountId,
      role: 'owner',
    });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.fields).sort()).toEqual(['email', 'role']);
  });
});
