import { readFileSync, statSync } from 'node:fs';
import { MINUTE } from '@smartlic/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../test-support/admin-client.js';
import { sendJson } from '../../test-support/http.js';
import { describeEachEngine } from '../../test-support/postgres.js';
import { type SessionBody, SessionClient, sessionCookieOf } from '../../test-support/session-client.js';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';

interface Refusal {
  code: string;
  message: string;
}

describeEachEngine('portal sessions', (engine) => {
  let t: TestServer;
  let adminPassword: string;
  let acme: { accountId: string; vaId: string };
  const viewerPassword = 'viewer password 1';

  const events = (type: string) =>
    t.inspect((db) => db.selectFrom('events').selectAll().where('type', '=', type).orderBy('id').execute());
  const countAccounts = () =>
    t.inspect(async (db) => (await db.selectFrom('smart_accounts').select('id').execute()).length);

  beforeAll(async () => {
    t = await startTestServer({ engine });
    adminPassword = readFileSync(t.server.adminPasswordPath, 'utf8').trim();
    acme = await t.admin.setupVa('Acme');
    await t.admin.ok('POST', '/api/v1/users', {
      email: 'viewer@acme.example',
      accountId: acme.accountId,
      role: 'viewer',
      vaId: acme.vaId,
      password: viewerPassword,
    });
  });
  afterAll(() => t.dispose());

  it('writes the owner password at first start: 0600, and only its scrypt hash in the database', async () => {
    expect(t.server.adminPasswordCreated).toBe(true);
    expect(statSync(t.server.adminPasswordPath).mode & 0o777).toBe(0o600);
    expect(adminPassword.length).toBeGreaterThanOrEqual(24);
    const rows = await t.inspect((db) => db.selectFrom('owner_credentials').selectAll().execute());
    expect(rows).toHaveLength(1);
    expect(rows[0]!.password_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(rows[0]!.password_hash).not.toContain(adminPassword);
  });

  it('signs the owner in: an HttpOnly SameSite=Strict cookie, and the cookie acts as the owner', async () => {
    const browser = new SessionClient(t.url);
    const answer = await browser.signIn({ email: 'admin', password: adminPassword });
    expect(answer.status).toBe(200);
    expect(answer.body.principal).toEqual({ kind: 'owner', id: 'admin', email: 'admin', name: 'admin', grants: [] });
    expect(answer.body.idleTimeoutSeconds).toBe(1800);
    const setCookie = answer.headers.getSetCookie().join('\n');
    expect(setCookie).toMatch(/smartlic_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict/);
    expect(setCookie).not.toContain('Secure');
    // The database holds the session id's hash, never the id.
    const stored = await t.inspect((db) => db.selectFrom('portal_sessions').selectAll().execute());
    expect(stored.map((s) => s.token_hash)).not.toContain(browser.cookie);

    const again = await browser.request<SessionBody>('GET', '/api/v1/session');
    expect(again.status).toBe(200);
    expect(again.body.csrfToken).toBe(answer.body.csrfToken);
    const before = await countAccounts();
    const created = await browser.request<{ id: string }>('POST', '/api/v1/accounts', { name: 'Made in the portal' });
    expect(created.status).toBe(201);
    expect(await countAccounts()).toBe(before + 1);
    const made = await events('account.created');
    expect(made.at(-1)?.actor).toBe('owner:admin');
    expect((await events('session.signed-in')).some((e) => e.actor === 'owner:admin')).toBe(true);
  });

  it('refuses a wrong password and an unknown user with the same answer, and records both', async () => {
    const browser = new SessionClient(t.url);
    const wrong = await browser.signIn({ email: 'admin', password: 'not the password' });
    const unknown = await browser.signIn({ email: 'nobody@acme.example', password: 'whatever it is' });
    const noPassword = await browser.signIn({ email: 'viewer@acme.example', password: 'viewer password 2' });
    for (const answer of [wrong, unknown, noPassword]) {
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ code: 'SIGN_IN_FAILED', message: 'The e-mail or password is not right.' });
      expect(sessionCookieOf(answer.headers)).toBeUndefined();
    }
    const failed = await events('session.sign-in-failed');
    expect(failed.map((e) => JSON.parse(e.detail).email)).toEqual(
      expect.arrayContaining(['admin', 'nobody@acme.example', 'viewer@acme.example']),
    );
  });

  it('refuses a malformed sign-in with one message, and needs no password for an API key sign-in', async () => {
    const sessionsBefore = await t.inspect((db) => db.selectFrom('portal_sessions').select('id').execute());
    for (const body of [
      { email: 'admin' },
      { email: 1, password: [] },
      { apiKey: t.admin.apiKey, email: 'admin', password: adminPassword },
      { email: 'admin', password: 'x'.repeat(5000) },
      'admin',
    ]) {
      const bad = await sendJson<Refusal>(`${t.url}/api/v1/session`, { method: 'POST', body });
      expect(bad.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(bad.body.code).toBe('BAD_REQUEST');
      expect(sessionCookieOf(bad.headers)).toBeUndefined();
    }
    // A form post (what a cross-site page can send without asking) is not even parsed.
    const form = await sendJson<Refusal>(`${t.url}/api/v1/session`, {
      method: 'POST',
      rawBody: `email=admin&password=${encodeURIComponent(adminPassword)}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect([400, 415]).toContain(form.status);
    expect(sessionCookieOf(form.headers)).toBeUndefined();
    expect(await t.inspect((db) => db.selectFrom('portal_sessions').select('id').execute())).toEqual(sessionsBefore);
    const browser = new SessionClient(t.url);
    expect((await browser.signIn({ apiKey: 'slk_not-a-key' })).status).toBe(401);
    const byKey = await browser.signIn({ apiKey: t.admin.apiKey });
    expect(byKey.status).toBe(200);
    expect(byKey.body.principal.kind).toBe('owner');
  });

  it('ends a session opened with an API key when the key is revoked, and keeps the key scope', async () => {
    const made = await t.admin.ok<{ apiKey: string; keyId: string; id: string }>('POST', '/api/v1/users', {
      email: 'keyed@acme.example',
      accountId: acme.accountId,
      role: 'user',
      vaId: acme.vaId,
    });
    const browser = new SessionClient(t.url);
    const signedIn = await browser.signIn({ apiKey: made.apiKey });
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.principal).toMatchObject({ kind: 'user', id: made.id, email: 'keyed@acme.example' });
    expect((await browser.request('GET', `/api/v1/virtual-accounts/${acme.vaId}/licenses`)).status).toBe(200);
    await t.admin.ok('POST', `/api/v1/api-keys/${made.keyId}/revoke`, undefined, 200);
    expect((await browser.request('GET', `/api/v1/virtual-accounts/${acme.vaId}/licenses`)).status).toBe(401);
    expect((await new SessionClient(t.url).signIn({ apiKey: made.apiKey })).status).toBe(401);
  });

  it('refuses a cross-site POST that rides the cookie without the CSRF token, and changes nothing', async () => {
    const browser = new SessionClient(t.url);
    await browser.signIn({ email: 'admin', password: adminPassword });
    const before = await countAccounts();
    const body = { name: 'Cross-site' };
    const attempts = [
      await browser.request<Refusal>('POST', '/api/v1/accounts', body, { csrf: false }),
      await browser.request<Refusal>('POST', '/api/v1/accounts', body, { csrf: 'forged-token' }),
      await browser.request<Refusal>('POST', '/api/v1/accounts', body, {
        headers: { origin: 'https://evil.example' },
      }),
      await browser.request<Refusal>('DELETE', `/api/v1/users/x/roles?accountId=${acme.accountId}`, undefined, {
        csrf: false,
      }),
    ];
    for (const answer of attempts) {
      expect(answer.status).toBe(403);
      expect(answer.body.code).toBe('CSRF_REJECTED');
    }
    expect(await countAccounts()).toBe(before);
    // The same request from the portal (own origin, token) passes.
    const ok = await browser.request('POST', '/api/v1/accounts', body, { headers: { origin: t.url } });
    expect(ok.status).toBe(201);
    // A cross-site sign-in (login CSRF) is refused too.
    const planted = await sendJson<Refusal>(`${t.url}/api/v1/session`, {
      method: 'POST',
      body: { email: 'admin', password: adminPassword },
      headers: { origin: 'https://evil.example' },
    });
    expect(planted.status).toBe(403);
    expect(sessionCookieOf(planted.headers)).toBeUndefined();
  });

  it('refuses a viewer session what the viewer may not do (POST /tokens), and lets it read', async () => {
    const browser = new SessionClient(t.url);
    const signedIn = await browser.signIn({ email: 'viewer@acme.example', password: viewerPassword });
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.principal).toMatchObject({
      kind: 'user',
      email: 'viewer@acme.example',
      grants: [{ accountId: acme.accountId, vaId: acme.vaId, role: 'viewer' }],
    });
    expect((await browser.request('GET', `/api/v1/virtual-accounts/${acme.vaId}/licenses`)).status).toBe(200);
    const tokensBefore = await t.inspect((db) => db.selectFrom('tokens').select('id').execute());
    const refused = await browser.request<Refusal>('POST', `/api/v1/virtual-accounts/${acme.vaId}/tokens`, {});
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('FORBIDDEN');
    expect(await t.inspect((db) => db.selectFrom('tokens').select('id').execute())).toEqual(tokensBefore);
    const denied = await events('access.denied');
    expect(denied.at(-1)?.actor).toBe('user:viewer@acme.example');
  });

  it('ends a session left idle past the timeout, keeps one in use, and ends any at 12 hours', async () => {
    const browser = new SessionClient(t.url);
    await browser.signIn({ email: 'admin', password: adminPassword });
    t.clock.advance(29 * MINUTE);
    expect((await browser.request('GET', '/api/v1/session')).status).toBe(200);
    t.clock.advance(29 * MINUTE);
    expect((await browser.request('GET', '/api/v1/accounts')).status).toBe(200);
    t.clock.advance(31 * MINUTE);
    const idle = await browser.request<Refusal>('GET', '/api/v1/accounts');
    expect(idle.status).toBe(401);
    expect(idle.body.code).toBe('UNAUTHENTICATED');
    expect((await browser.request('GET', '/api/v1/session')).status).toBe(401);

    const busy = new SessionClient(t.url);
    await busy.signIn({ email: 'admin', password: adminPassword });
    for (let minutes = 0; minutes < 12 * 60 - 20; minutes += 20) {
      t.clock.advance(20 * MINUTE);
      expect((await busy.request('GET', '/api/v1/session')).status).toBe(200);
    }
    t.clock.advance(20 * MINUTE);
    expect((await busy.request('GET', '/api/v1/session')).status).toBe(401);
  });

  it('signs out: the cookie is cleared and its session refused afterwards', async () => {
    const browser = new SessionClient(t.url);
    await browser.signIn({ email: 'admin', password: adminPassword });
    const cookie = browser.cookie;
    const out = await browser.request('DELETE', '/api/v1/session');
    expect(out.status).toBe(204);
    expect(out.headers.getSetCookie().join('\n')).toMatch(/smartlic_session=;/);
    browser.cookie = cookie;
    expect((await browser.request('GET', '/api/v1/accounts')).status).toBe(401);
    expect((await events('session.signed-out')).length).toBeGreaterThan(0);
  });

  it('gives a new session id at sign-in and ends the one the browser had (no fixation)', async () => {
    const planted = new SessionClient(t.url);
    await planted.signIn({ email: 'viewer@acme.example', password: viewerPassword });
    const victim = new SessionClient(t.url);
    victim.cookie = planted.cookie;
    await victim.signIn({ email: 'admin', password: adminPassword });
    expect(victim.cookie).not.toBe(planted.cookie);
    expect((await planted.request('GET', '/api/v1/session')).status).toBe(401);
    expect((await victim.request('GET', '/api/v1/session')).status).toBe(200);
  });

  it('sets passwords: the user themself, not an admin of only some of their places; ends their sessions', async () => {
    const beta = await t.admin.setupVa('Beta');
    const acmeAdmin = await t.admin.ok<{ apiKey: string }>('POST', '/api/v1/users', {
      email: 'boss@acme.example',
      accountId: acme.accountId,
      role: 'admin',
    });
    // A user with roles in Acme and Beta: Acme's admin may not set the password.
    await t.admin.ok('POST', '/api/v1/users', { email: 'both@x.example', accountId: acme.accountId, role: 'user' });
    const both = await t.admin.ok<{ id: string; apiKey: string }>('POST', '/api/v1/users', {
      email: 'both@x.example',
      accountId: beta.accountId,
      role: 'user',
      password: 'first password!',
    });
    const boss = new AdminClient(t.url, acmeAdmin.apiKey);
    const hashBefore = await t.inspect((db) =>
      db.selectFrom('users').select('password_hash').where('id', '=', both.id).executeTakeFirst(),
    );
    const refused = await boss.request<Refusal>('POST', `/api/v1/users/both@x.example/password`, {
      password: 'taken over now',
    });
    expect(refused.status).toBe(403);
    // Granting a role with a password answers as usual (the answer must not tell that the
    // e-mail holds roles elsewhere), but leaves the password as it is.
    const grant = await boss.request<{ apiKey: string }>('POST', '/api/v1/users', {
      email: 'both@x.example',
      accountId: acme.accountId,
      role: 'viewer',
      password: 'taken over now',
    });
    expect(grant.status).toBe(201);
    expect((await events('user.password-refused')).at(-1)).toMatchObject({ account_id: null, va_id: null });
    expect(
      await t.inspect((db) =>
        db.selectFrom('users').select('password_hash').where('id', '=', both.id).executeTakeFirst(),
      ),
    ).toEqual(hashBefore);

    const browser = new SessionClient(t.url);
    expect((await browser.signIn({ email: 'both@x.example', password: 'first password!' })).status).toBe(200);
    const self = await browser.request<{ email: string }>('POST', `/api/v1/users/${both.id}/password`, {
      password: 'second password',
    });
    expect(self.status).toBe(200);
    expect((await browser.request('GET', '/api/v1/session')).status).toBe(401);
    expect(
      (await new SessionClient(t.url).signIn({ email: 'both@x.example', password: 'second password' })).status,
    ).toBe(200);
    const short = await t.admin.request<Refusal>('POST', `/api/v1/users/${both.id}/password`, { password: 'short' });
    expect(short.status).toBe(400);
  });
});

describe('sign-in rate limits', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ rateLimits: { signInPerEmail: 3, signIn: 8 } });
  });
  afterAll(() => t.dispose());

  it('refuses an e-mail after its failed attempts, even with the right password, and an address after its attempts', async () => {
    const password = readFileSync(t.server.adminPasswordPath, 'utf8').trim();
    const browser = new SessionClient(t.url);
    for (let i = 0; i < 3; i++)
      expect((await browser.signIn({ email: 'admin', password: 'wrong one' })).status).toBe(401);
    const limited = await browser.signIn({ email: 'admin', password });
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ code: 'RATE_LIMITED' });
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    // Another e-mail from the same address is still judged on its password.
    expect((await browser.signIn({ email: 'someone@acme.example', password: 'wrong one' })).status).toBe(401);
    // Per address: every attempt counts (8 a minute here); the 9th is refused.
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await browser.signIn({ email: `u${i}@x.example`, password: 'p' })).status);
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(statuses[3]).toBe(429);
  });
});
