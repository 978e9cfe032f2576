import { DAY } from '@smartlic/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendJson } from '../test-support/http.js';
import { describeEachEngine } from '../test-support/postgres.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

describeEachEngine('admin REST API', (engine) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ engine });
  });
  afterAll(async () => {
    await t.dispose();
  });

  const missingVa = '00000000-0000-4000-8000-000000000000';

  describe('accounts and virtual accounts', () => {
    it('creates an account with a default domain made from its name', async () => {
      const created = await t.admin.createAccount('Ünïcode Corp. & Sons');
      expect(created).toEqual({
        id: expect.any(String),
        name: 'Ünïcode Corp. & Sons',
        domain: 'unicode-corp-sons.example',
        createdAt: new Date(t.clock.now()).toISOString(),
      });
      const list = (await t.admin.request<Array<{ id: string }>>('GET', '/api/v1/accounts')).body;
      expect(list.map((a) => a.id)).toContain(created.id);
    });

    it('takes a domain, lowercased, and refuses bad or duplicate ones', async () => {
      expect((await t.admin.createAccount('Example', 'Example.COM')).domain).toBe('example.com');
      const dup = await t.admin.request('POST', '/api/v1/accounts', { name: 'Other', domain: 'example.com' });
      expect(dup.status).toBe(409);
      expect(dup.body).toMatchObject({ code: 'CONFLICT', fields: { domain: expect.any(Array) } });
      for (const domain of ['nodot', 'bad_domain.com', '-x.com', 'a..b', 'x.123']) {
        const bad = await t.admin.request('POST', '/api/v1/accounts', { name: 'Bad', domain });
        expect(bad.status, domain).toBe(400);
        expect(bad.body).toMatchObject({ code: 'BAD_REQUEST', fields: { domain: expect.any(Array) } });
      }
    });

    it('refuses a missing or empty name with a field message', async () => {
      for (const body of [{}, { name: '  ' }, { name: 42 }, undefined, []]) {
        const answer = await t.admin.request('POST', '/api/v1/accounts', body);
        expect(answer.status).toBe(400);
        expect(answer.body).toMatchObject({
          code: 'BAD_REQUEST',
          message: expect.stringMatching(/^The request is not valid: /),
        });
      }
      const answer = await t.admin.request('POST', '/api/v1/accounts', {});
      expect(answer.body).toMatchObject({ fields: { name: expect.any(Array) } });
    });

    it('creates and lists virtual accounts; names are unique per account; unknown accounts are 404', async () => {
      const account = await t.admin.createAccount('VA Holder');
      const va = await t.admin.createVa(account.id, 'Lab');
      expect(va).toEqual({ id: expect.any(String), name: 'Lab', accountId: account.id, createdAt: expect.any(String) });
      expect(
        (await t.admin.request('POST', `/api/v1/accounts/${account.id}/virtual-accounts`, { name: 'Lab' })).status,
      ).toBe(409);
      await t.admin.createVa(account.id, 'Prod');
      const list = await t.admin.ok<Array<{ name: string }>>('GET', `/api/v1/accounts/${account.id}/virtual-accounts`);
      expect(list.map((v) => v.name)).toEqual(['Lab', 'Prod']);
      const missing = await t.admin.request('GET', '/api/v1/accounts/nope/virtual-accounts');
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({ code: 'NOT_FOUND', message: "Smart account 'nope' was not found." });
      expect((await t.admin.request('POST', '/api/v1/accounts/nope/virtual-accounts', { name: 'x' })).status).toBe(404);
    });
  });

  describe('licenses', () => {
    it('adds perpetual, term and subscription pools with the right rules', async () => {
      const { vaId } = await t.admin.setupVa('Licenses');
      const perpetual = await t.admin.addLicense(vaId, { tag: 'A', count: 5, name: 'Feature A' });
      expect(perpetual).toEqual({
        id: expect.any(String),
        tag: 'A',
        name: 'Feature A',
        quantity: 5,
        type: 'perpetual',
        startsAt: new Date(t.clock.now()).toISOString(),
        endsAt: null,
      });
      const endsAt = new Date(t.clock.now() + 30 * DAY).toISOString();
      expect(await t.admin.addLicense(vaId, { tag: 'A', count: 1, type: 'term', endsAt })).toMatchObject({
        type: 'term',
        endsAt,
      });
      expect(
        await t.admin.addLicense(vaId, { tag: 'B', count: 2, type: 'subscription', endsAt: '2099-12-31' }),
      ).toMatchObject({
        endsAt: '2099-12-31T00:00:00.000Z',
      });
      expect(await t.admin.listLicenses(vaId)).toEqual([
        // The term pool ends within 30 days (issue 4: expiry alerts at 90/60/30 days).
        { tag: 'A', name: 'Feature A', quantity: 6, inUse: 0, surplus: 6, alerts: ['Expiring in 30 days'] },
        { tag: 'B', name: 'B', quantity: 2, inUse: 0, surplus: 2, alerts: [] },
      ]);

      const cases: Array<[unknown, string]> = [
        [{ tag: 'A', count: 0 }, 'count'],
        [{ tag: 'A', count: 1.5 }, 'count'],
        [{ tag: '', count: 1 }, 'tag'],
        [{ tag: 'A', count: 1, type: 'forever' }, 'type'],
        [{ tag: 'A', count: 1, type: 'term' }, 'endsAt'],
        [{ tag: 'A', count: 1, type: 'term', endsAt: '2020-01-01' }, 'endsAt'],
        [{ tag: 'A', count: 1, type: 'term', endsAt: 'next week' }, 'endsAt'],
        [{ tag: 'A', count: 1, endsAt: '2099-01-01' }, 'endsAt'],
      ];
      for (const [body, field] of cases) {
        const answer = await t.admin.request('POST', `/api/v1/virtual-accounts/${vaId}/licenses`, body);
        expect(answer.status, JSON.stringify(body)).toBe(400);
        expect(answer.body).toMatchObject({ code: 'BAD_REQUEST', fields: { [field]: expect.any(Array) } });
      }
    });

    it('answers 404 for an unknown VA', async () => {
      const add = await t.admin.request('POST', `/api/v1/virtual-accounts/${missingVa}/licenses`, {
        tag: 'A',
        count: 1,
      });
      expect(add.status).toBe(404);
      expect(add.body).toMatchObject({ code: 'NOT_FOUND', message: `Virtual account '${missingVa}' was not found.` });
      expect((await t.admin.request('GET', `/api/v1/virtual-accounts/${missingVa}/licenses`)).status).toBe(404);
      expect((await t.admin.request('GET', `/api/v1/virtual-accounts/${missingVa}/instances`)).status).toBe(404);
      expect((await t.admin.request('GET', `/api/v1/virtual-accounts/${missingVa}/tokens`)).status).toBe(404);
    });
  });

  describe('tokens', () => {
    it('creates tokens with defaults and limits, lists them and revokes them', async () => {
      const { vaId } = await t.admin.setupVa('Tokens');
      const token = await t.admin.createToken(vaId);
      expect(token).toEqual({
        id: expect.any(String),
        token: expect.stringMatching(/^T[A-Za-z0-9_-]{64}$/),
        tokenHint: expect.stringMatching(/^…[A-Za-z0-9_-]{4}$/),
        vaId,
        description: '',
        createdAt: new Date(t.clock.now()).toISOString(),
        expiresAt: new Date(t.clock.now() + 30 * DAY).toISOString(),
        maxUses: null,
        uses: 0,
        exportControlled: false,
        revokedAt: null,
        status: 'ACTIVE',
      });
      t.clock.advance(1);
      const limited = await t.admin.createToken(vaId, {
        description: 'lab',
        days: 365,
        maxUses: 2,
        exportControlled: true,
      });
      expect(limited).toMatchObject({ description: 'lab', maxUses: 2, exportControlled: true });
      expect((await t.admin.listTokens(vaId)).map((x) => x.id)).toEqual([token.id, limited.id]);
      // The owner may create tokens, so the list shows their values to copy.
      expect((await t.admin.listTokens(vaId)).map((x) => x.token)).toEqual([token.token, limited.token]);
      expect(token.tokenHint).toBe(`…${token.token.slice(-4)}`);

      const revoked = await t.admin.revokeToken(token.id);
      expect(revoked.status).toBe('REVOKED');
      // Again: idempotent, the first revocation time stays; an empty JSON body is fine.
      t.clock.advance(1000);
      const again = await sendJson(`${t.url}/api/v1/tokens/${token.id}/revoke`, {
        method: 'POST',
        rawBody: '',
        headers: { authorization: `Bearer ${t.admin.apiKey}`, 'content-type': 'application/json' },
      });
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ revokedAt: revoked.revokedAt });
      const missing = await t.admin.request('POST', '/api/v1/tokens/nope/revoke');
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({ message: "Token 'nope' was not found." });

      for (const body of [{ days: 0 }, { days: 366 }, { days: 1.5 }, { maxUses: 0 }, { exportControlled: 'yes' }]) {
        const answer = await t.admin.request('POST', `/api/v1/virtual-accounts/${vaId}/tokens`, body);
        expect(answer.status, JSON.stringify(body)).toBe(400);
        expect(answer.body).toMatchObject({ code: 'BAD_REQUEST', fields: expect.any(Object) });
      }
    });

    it('shows a token EXPIRED once the clock passes its expiry', async () => {
      const { vaId } = await t.admin.setupVa('Expiring');
      const token = await t.admin.createToken(vaId, { days: 1 });
      t.clock.advance(DAY);
      expect((await t.admin.listTokens(vaId)).find((x) => x.id === token.id)?.status).toBe('EXPIRED');
    });
  });

  it('refuses a revoked API key', async () => {
    const revoke = (at: number | null) =>
      t.inspect((db) => db.updateTable('api_keys').set({ revoked_at: at }).execute());
    await revoke(t.clock.now());
    try {
      const answer = await t.admin.request('GET', '/api/v1/accounts');
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ code: 'UNAUTHENTICATED', message: 'This API key has been revoked.' });
    } finally {
      await revoke(null);
    }
  });

  it('answers unknown routes with NOT_FOUND', async () => {
    const answer = await t.admin.request('GET', '/api/v1/nothing-here');
    expect(answer.status).toBe(404);
    expect(answer.body).toMatchObject({ code: 'NOT_FOUND', message: 'There is no route GET /api/v1/nothing-here.' });
  });
});
