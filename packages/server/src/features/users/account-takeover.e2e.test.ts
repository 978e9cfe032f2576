import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ApiKeyCreated, UserCreated as Created, ApiKeyView as Key } from '../../index.js';
import { AdminClient } from '../../test-support/admin-client.js';
import { describeEachEngine } from '../../test-support/postgres.js';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';

interface Refusal {
  code: string;
  message: string;
}

/**
 * The account takeover through `POST /users`: an admin of one Smart Account grants a role
 * to a user of another (or a VA admin to its account's admin) and used to get back a key
 * carrying every right of that user. Now the key is scoped to the granting place, the answer
 * does not tell whether the e-mail was known, and nothing reaches the other account.
 */
describeEachEngine('granting a role to a user of another account', (engine) => {
  let t: TestServer;
  let acme: { accountId: string; vaId: string };
  let shopId: string;
  let beta: { accountId: string; vaId: string };
  let alice: Created; // admin of Acme
  let mallory: AdminClient; // admin of Beta
  let victor: AdminClient; // admin of Acme's Lab only

  const as = (key: string) => new AdminClient(t.url, key);
  const grant = (client: AdminClient, body: Record<string, string>) =>
    client.request<Created & Refusal>('POST', '/api/v1/users', body);

  beforeAll(async () => {
    t = await startTestServer({ engine });
    acme = await t.admin.setupVa('Acme');
    shopId = (await t.admin.createVa(acme.accountId, 'Shop')).id;
    beta = await t.admin.setupVa('Beta');
    await t.admin.addLicense(acme.vaId, { tag: 'T', count: 10 });
    alice = await t.admin.ok<Created>('POST', '/api/v1/users', {
      email: 'alice@acme.example',
      accountId: acme.accountId,
      role: 'admin',
    });
    mallory = as(
      (
        await t.admin.ok<Created>('POST', '/api/v1/users', {
          email: 'mallory@beta.example',
          accountId: beta.accountId,
          role: 'admin',
        })
      ).apiKey,
    );
    victor = as(
      (
        await t.admin.ok<Created>('POST', '/api/v1/users', {
          email: 'victor@acme.example',
          accountId: acme.accountId,
          vaId: acme.vaId,
          role: 'admin',
        })
      ).apiKey,
    );
  });
  afterAll(() => t.dispose());

  it('gives an admin of B no key with rights in A, and answers as for an unknown e-mail', async () => {
    const stolen = await grant(mallory, { email: 'alice@acme.example', accountId: beta.accountId, role: 'viewer' });
    const stranger = await grant(mallory, { email: 'nobody@else.example', accountId: beta.accountId, role: 'viewer' });
    expect(stolen.status).toBe(201);
    expect(stranger.status).toBe(201);
    expect(Object.keys(stolen.body).sort()).toEqual(Object.keys(stranger.body).sort());
    expect(stolen.body).toMatchObject({ id: alice.id, email: 'alice@acme.example', created: true });
    expect(stranger.body.created).toBe(true);

    const key = as(stolen.body.apiKey);
    const tries: Array<[string, string, unknown?]> = [
      ['GET', `/api/v1/accounts/${acme.accountId}/users`],
      ['GET', `/api/v1/virtual-accounts/${acme.vaId}/licenses`],
      ['POST', `/api/v1/virtual-accounts/${acme.vaId}/tokens`, {}],
      ['POST', `/api/v1/accounts/${acme.accountId}/virtual-accounts`, { name: 'Mine now' }],
      ['POST', '/api/v1/users', { email: 'mallory@beta.example', accountId: acme.accountId, role: 'admin' }],
      ['GET', `/api/v1/users/${alice.id}/api-keys`],
    ];
    for (const [method, path, body] of tries) {
      const answer = await key.request<Refusal>(method, path, body);
      expect(answer.status, `${method} ${path}`).toBe(path.includes('/api-keys') ? 200 : 404);
    }
    const visible = await key.ok<Array<{ id: string }>>('GET', '/api/v1/accounts');
    expect(visible.map((a) => a.id)).toEqual([beta.accountId]);
    // Even through the stolen key, the keys listed are only those scoped inside Beta.
    const listed = await key.ok<Key[]>('GET', `/api/v1/users/${alice.id}/api-keys`);
    expect(listed.map((k) => k.id)).toEqual([stolen.body.keyId]);

    // Minting another key as alice with the stolen key stays inside Beta.
    const minted = await key.ok<ApiKeyCreated>('POST', `/api/v1/users/${alice.id}/api-keys`, {});
    expect(minted.scope).toEqual({ accountId: beta.accountId, vaId: null });
    expect((await as(minted.apiKey).request('GET', `/api/v1/accounts/${acme.accountId}/users`)).status).toBe(404);
    const widened = await key.request<Refusal>('POST', `/api/v1/users/${alice.id}/api-keys`, {
      accountId: acme.accountId,
    });
    expect(widened.status).toBe(404);

    // Alice keeps her rights in Acme, and her own key works.
    expect((await as(alice.apiKey).request('GET', `/api/v1/accounts/${acme.accountId}/users`)).status).toBe(200);
    const events = await t.admin.ok<{ items: Array<{ type: string }> }>(
      'GET',
      `/api/v1/accounts/${acme.accountId}/events?type=access.denied`,
    );
    expect(events.items).toEqual([]);
  });

  it("does not let an admin of B see, mint or revoke a user's keys outside B", async () => {
    await grant(mallory, { email: 'alice@acme.example', accountId: beta.accountId, role: 'viewer' });
    const own = await mallory.request<Refusal>('GET', `/api/v1/users/${alice.id}/api-keys`);
    expect(own.status).toBe(200);
    expect((own.body as unknown as Key[]).every((k) => k.scope?.accountId === beta.accountId)).toBe(true);
    const revoke = await mallory.request<Refusal>('POST', `/api/v1/api-keys/${alice.keyId}/revoke`);
    const unknownKey = randomUUID();
    const revokeUnknown = await mallory.request<Refusal>('POST', `/api/v1/api-keys/${unknownKey}/revoke`);
    expect(revoke.status).toBe(404);
    expect(revoke.body.message).toBe(revokeUnknown.body.message.replace(unknownKey, alice.keyId));
    const mint = await mallory.request<Refusal>('POST', `/api/v1/users/${alice.id}/api-keys`, {
      accountId: acme.accountId,
    });
    expect(mint.status).toBe(404);
    expect((await as(alice.apiKey).request('GET', '/api/v1/accounts')).status).toBe(200);

    // A user with no role in B at all: the same answer as a user id that does not exist.
    const outsider = await t.admin.ok<Created>('POST', '/api/v1/users', {
      email: 'outsider@acme.example',
      accountId: acme.accountId,
      role: 'viewer',
    });
    const unknownUser = randomUUID();
    for (const [method, suffix] of [
      ['GET', 'api-keys'],
      ['POST', 'api-keys'],
    ] as const) {
      const body = method === 'POST' ? {} : undefined;
      const real = await mallory.request<Refusal>(method, `/api/v1/users/${outsider.id}/${suffix}`, body);
      const none = await mallory.request<Refusal>(method, `/api/v1/users/${unknownUser}/${suffix}`, body);
      expect(real.status).toBe(404);
      expect({ ...real.body, requestId: '' }).toEqual({
        ...none.body,
        requestId: '',
        message: none.body.message.replace(unknownUser, outsider.id),
      });
    }
  });

  it("gives a VA admin no key with the account admin's rights beyond its VA", async () => {
    const stolen = await grant(victor, {
      email: 'alice@acme.example',
      accountId: acme.accountId,
      vaId: acme.vaId,
      role: 'viewer',
    });
    expect(stolen.status).toBe(201);
    expect(stolen.body.created).toBe(false);
    const key = as(stolen.body.apiKey);
    expect(
      (await key.request('POST', `/api/v1/accounts/${acme.accountId}/virtual-accounts`, { name: 'X' })).status,
    ).toBe(403);
    expect((await key.request('GET', `/api/v1/accounts/${acme.accountId}/users`)).status).toBe(403);
    expect((await key.request('GET', `/api/v1/virtual-accounts/${shopId}/licenses`)).status).toBe(404);
    const accountWide = await key.request('POST', '/api/v1/users', {
      email: 'victor@acme.example',
      accountId: acme.accountId,
      role: 'admin',
    });
    expect(accountWide.status).toBe(403);
    expect((await as(alice.apiKey).request('GET', `/api/v1/accounts/${acme.accountId}/users`)).status).toBe(200);
  });

  it('still lets an admin grant an existing user of the account a new role, usable with their existing key', async () => {
    const accountAdmin = as(alice.apiKey);
    const carol = await accountAdmin.ok<Created>('POST', '/api/v1/users', {
      email: 'carol@acme.example',
      accountId: acme.accountId,
      role: 'viewer',
    });
    expect(carol.created).toBe(true);
    const carolKey = as(carol.apiKey);
    expect((await carolKey.request('POST', `/api/v1/virtual-accounts/${acme.vaId}/tokens`, {})).status).toBe(403);
    const again = await accountAdmin.ok<Created>('POST', '/api/v1/users', {
      email: 'carol@acme.example',
      accountId: acme.accountId,
      vaId: acme.vaId,
      role: 'user',
    });
    expect(again).toMatchObject({ id: carol.id, created: false });
    expect((await carolKey.request('POST', `/api/v1/virtual-accounts/${acme.vaId}/tokens`, {})).status).toBe(201);
  });

  it('removes a role, logs it, and revokes scoped keys left with no role; an admin of B cannot remove roles in A', async () => {
    const accountAdmin = as(alice.apiKey);
    const dave = await accountAdmin.ok<Created>('POST', '/api/v1/users', {
      email: 'dave@acme.example',
      accountId: acme.accountId,
      vaId: acme.vaId,
      role: 'user',
    });
    const daveKey = as(dave.apiKey);
    expect((await daveKey.request('POST', `/api/v1/virtual-accounts/${acme.vaId}/tokens`, {})).status).toBe(201);

    const probe = await mallory.request<Refusal>(
      'DELETE',
      `/api/v1/users/${dave.id}/roles?accountId=${acme.accountId}&vaId=${acme.vaId}`,
    );
    expect(probe.status).toBe(404);
    expect(probe.body.message).toBe(`Virtual account '${acme.vaId}' was not found, or you are not allowed to see it.`);
    const notAccountAdmin = await victor.request<Refusal>(
      'DELETE',
      `/api/v1/users/${alice.id}/roles?accountId=${acme.accountId}`,
    );
    expect(notAccountAdmin.status).toBe(403);
    expect((await accountAdmin.request('GET', `/api/v1/accounts/${acme.accountId}/users`)).status).toBe(200);

    const removed = await accountAdmin.ok<{ role: string; revokedKeys: number }>(
      'DELETE',
      `/api/v1/users/${dave.id}/roles?accountId=${acme.accountId}&vaId=${acme.vaId}`,
    );
    expect(removed).toMatchObject({ userId: dave.id, accountId: acme.accountId, vaId: acme.vaId, role: 'user' });
    expect(removed.revokedKeys).toBe(1);
    expect((await daveKey.request('GET', '/api/v1/accounts')).status).toBe(401);
    const users = await accountAdmin.ok<Array<{ email: string }>>('GET', `/api/v1/accounts/${acme.accountId}/users`);
    expect(users.map((u) => u.email)).not.toContain('dave@acme.example');
    const events = await t.admin.ok<{ items: Array<{ type: string; actor: string; detail: object }> }>(
      'GET',
      `/api/v1/virtual-accounts/${acme.vaId}/events?type=user.role-removed`,
    );
    expect(events.items[0]).toMatchObject({
      actor: 'user:alice@acme.example',
      detail: { userId: dave.id, role: 'user', revokedKeys: 1 },
    });
    const twice = await accountAdmin.request<Refusal>(
      'DELETE',
      `/api/v1/users/${dave.id}/roles?accountId=${acme.accountId}&vaId=${acme.vaId}`,
    );
    expect(twice.status).toBe(404);
  });
});
