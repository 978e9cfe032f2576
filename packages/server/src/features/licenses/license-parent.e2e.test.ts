import { afterEach, beforeEach, expect, it } from 'vitest';
import { sendJson } from '../../test-support/http.js';
import { describeEachEngine } from '../../test-support/postgres.js';
import { startTestApp, type TestApp } from '../../test-support/test-app.js';

const GENERIC = 'C9500 Network Advantage';
const SPECIFIC = 'C9500 32C NW Advantage';

describeEachEngine('adding a license pool with a parent tag: one request, one transaction', (engine) => {
  let t: TestApp;
  let vaId: string;
  let accountId: string;
  const call = <T>(key: string, method: string, path: string, body?: unknown) =>
    sendJson<T>(`${t.url}${path}`, { method, body, headers: { authorization: `Bearer ${key}` } });
  const pools = async () =>
    t.database.db.selectFrom('license_pools').select(['tag', 'quantity']).where('va_id', '=', vaId).execute();
  const tagRow = async (tag: string) =>
    t.database.db.selectFrom('tags').select(['tag', 'parent_tag']).where('tag', '=', tag).executeTakeFirst();

  beforeEach(async () => {
    t = await startTestApp({ engine });
    accountId = (await call<{ id: string }>(t.ownerKey, 'POST', '/api/v1/accounts', { name: 'Acme' })).body.id;
    vaId = (
      await call<{ id: string }>(t.ownerKey, 'POST', `/api/v1/accounts/${accountId}/virtual-accounts`, {
        name: 'Lab',
      })
    ).body.id;
  });
  afterEach(() => t.dispose());

  const vaAdmin = async () =>
    (
      await call<{ apiKey: string }>(t.ownerKey, 'POST', '/api/v1/users', {
        email: 'va-admin@acme.example',
        accountId,
        role: 'admin',
        vaId,
      })
    ).body.apiKey;

  it('lets the owner define the parent with the pool, and the hierarchy applies at once', async () => {
    const added = await call(t.ownerKey, 'POST', `/api/v1/virtual-accounts/${vaId}/licenses`, {
      tag: SPECIFIC,
      count: 3,
      parent: GENERIC,
    });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    expect(await tagRow(SPECIFIC)).toEqual({ tag: SPECIFIC, parent_tag: GENERIC });
    const list = await call<Array<{ tag: string; parent: string | null }>>(
      t.ownerKey,
      'GET',
      `/api/v1/virtual-accounts/${vaId}/licenses`,
    );
    expect(list.body.find((r) => r.tag === SPECIFIC)?.parent).toBe(GENERIC);
  });

  it('refuses a VA admin who would define a global parent, and adds no pool', async () => {
    const key = await vaAdmin();
    const refused = await call<{ code: string; message: string }>(
      key,
      'POST',
      `/api/v1/virtual-accounts/${vaId}/licenses`,
      { tag: SPECIFIC, count: 3, parent: GENERIC },
    );
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('FORBIDDEN');
    expect(refused.body.message).toContain('only an owner can define one');
    expect(await pools()).toEqual([]);
    expect(await tagRow(SPECIFIC)).toBeUndefined();
  });

  it('accepts the parent from a VA admin when the tag already has it', async () => {
    await call(t.ownerKey, 'POST', '/api/v1/tags', { tag: SPECIFIC, parent: GENERIC });
    const key = await vaAdmin();
    const added = await call(key, 'POST', `/api/v1/virtual-accounts/${vaId}/licenses`, {
      tag: SPECIFIC,
      count: 2,
      parent: GENERIC,
    });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    expect(await pools()).toEqual([{ tag: SPECIFIC, quantity: 2 }]);
  });

  it('refuses a parent other than the one the tag has, for the owner too, and adds no pool', async () => {
    await call(t.ownerKey, 'POST', '/api/v1/tags', { tag: SPECIFIC, parent: GENERIC });
    const refused = await call<{ code: string; message: string }>(
      t.ownerKey,
      'POST',
      `/api/v1/virtual-accounts/${vaId}/licenses`,
      { tag: SPECIFIC, count: 2, parent: 'C9500 Other' },
    );
    expect(refused.status).toBe(409);
    expect(refused.body.message).toContain(`already has the parent ${GENERIC}`);
    expect(await pools()).toEqual([]);
    expect(await tagRow(SPECIFIC)).toEqual({ tag: SPECIFIC, parent_tag: GENERIC });
  });

  it('defines no parent when the pool itself is refused (one transaction)', async () => {
    const refused = await call(t.ownerKey, 'POST', '/api/v1/virtual-accounts/no-such-va/licenses', {
      tag: SPECIFIC,
      count: 2,
      parent: GENERIC,
    });
    expect(refused.status).toBe(404);
    expect(await tagRow(SPECIFIC)).toBeUndefined();
  });
});
