import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendJson } from '../test-support/http.js';
import { startTestApp, type TestApp } from '../test-support/test-app.js';

/**
 * Acceptance of issue 4 item 1: every role tries every admin route (enumerated from the
 * server's route table); exactly the allowed ones pass the access check, the others are
 * refused with 403 and leave an `access.denied` event. The expected permissions below are
 * written by hand, independently of the routes' `config.access`, so that a wrong
 * declaration fails here.
 */

type Who = 'owner' | 'accAdmin' | 'accUser' | 'accViewer' | 'vaAdmin' | 'vaUser' | 'vaViewer' | 'other';
const EVERYONE: Who[] = ['owner', 'accAdmin', 'accUser', 'accViewer', 'vaAdmin', 'vaUser', 'vaViewer', 'other'];

// Everything below concerns Smart Account "Acme" and its VA "Lab" (VA 1); 'other' is an admin of another account.
const OWNER: Who[] = ['owner'];
const READ_VA: Who[] = ['owner', 'accAdmin', 'accUser', 'accViewer', 'vaAdmin', 'vaUser', 'vaViewer'];
const WRITE_VA: Who[] = ['owner', 'accAdmin', 'accUser', 'vaAdmin', 'vaUser'];
const ADMIN_VA: Who[] = ['owner', 'accAdmin', 'vaAdmin'];
const READ_ACCOUNT: Who[] = ['owner', 'accAdmin', 'accUser', 'accViewer'];
const WRITE_ACCOUNT: Who[] = ['owner', 'accAdmin', 'accUser'];
const ADMIN_ACCOUNT: Who[] = ['owner', 'accAdmin'];
/** A transfer from Lab to another VA of Acme changes both: a role on Lab alone does not allow it. */
const TRANSFER_OUT_OF_LAB: Who[] = WRITE_ACCOUNT;
/** Routes about a user who is a viewer on Lab: the owner and admins over Lab. */
const ABOUT_LAB_USER: Who[] = ['owner', 'accAdmin', 'vaAdmin'];

const EXPECTED: Record<string, Who[]> = {
  'POST /api/v1/accounts': OWNER,
  'GET /api/v1/accounts': EVERYONE,
  'POST /api/v1/accounts/:accountId/virtual-accounts': ADMIN_ACCOUNT,
  'GET /api/v1/accounts/:accountId/virtual-accounts': READ_VA,
  'POST /api/v1/virtual-accounts/:vaId/licenses': WRITE_VA,
  'GET /api/v1/virtual-accounts/:vaId/licenses': READ_VA,
  'POST /api/v1/virtual-accounts/:vaId/licenses/transfer': TRANSFER_OUT_OF_LAB,
  'POST /api/v1/virtual-accounts/:vaId/tokens': WRITE_VA,
  'GET /api/v1/virtual-accounts/:vaId/tokens': READ_VA,
  'POST /api/v1/tokens/:tokenId/revoke': WRITE_VA,
  'GET /api/v1/virtual-accounts/:vaId/instances': READ_VA,
  'DELETE /api/v1/instances/:instanceId': WRITE_VA,
  'POST /api/v1/instances/:instanceId/transfer': TRANSFER_OUT_OF_LAB,
  'POST /api/v1/users': ADMIN_VA,
  'GET /api/v1/accounts/:accountId/users': ADMIN_ACCOUNT,
  'POST /api/v1/users/:userId/api-keys': ABOUT_LAB_USER,
  'GET /api/v1/users/:userId/api-keys': ABOUT_LAB_USER,
  'POST /api/v1/api-keys/:keyId/revoke': ABOUT_LAB_USER,
  'GET /api/v1/virtual-accounts/:vaId/events': READ_VA,
  'GET /api/v1/accounts/:accountId/events': READ_ACCOUNT,
  /** Events of every account and of none (refusals of owner-only routes): system-wide. */
  'GET /api/v1/events': OWNER,
  'POST /api/v1/tags': OWNER,
  /** The tag tree is global product data every license reader needs to read its license rows; only writing is the owner's. */
  'GET /api/v1/tags': EVERYONE,
  'GET /api/v1/virtual-accounts/:vaId/reports/:kind': READ_VA,
  'POST /api/v1/jobs/run': OWNER,
  'POST /api/v1/accounts/:accountId/paks': WRITE_ACCOUNT,
  'GET /api/v1/accounts/:accountId/paks': READ_ACCOUNT,
  'POST /api/v1/paks/:pakId/convert': WRITE_ACCOUNT,
  'GET /api/v1/accounts/:accountId/conversions': READ_ACCOUNT,
  'GET /api/v1/virtual-accounts/:vaId/conversion-settings': READ_VA,
  /** Turning device-led conversion on lets devices deposit licenses: admins of the VA only. */
  'PATCH /api/v1/virtual-accounts/:vaId/conversion-settings': ADMIN_VA,
  'GET /api/v1/virtual-accounts/:vaId/device-conversions': READ_VA,
  'POST /api/v1/device-conversions/:conversionId/approve': ADMIN_VA,
  'POST /api/v1/device-conversions/:conversionId/reject': ADMIN_VA,
  'POST /api/v1/virtual-accounts/:vaId/reservation-settings': ADMIN_VA,
  'GET /api/v1/virtual-accounts/:vaId/reservation-settings': READ_VA,
  'POST /api/v1/virtual-accounts/:vaId/reservations': WRITE_VA,
  'POST /api/v1/virtual-accounts/:vaId/reservations/plr': ADMIN_VA,
  'POST /api/v1/instances/:instanceId/reservation': WRITE_VA,
  'POST /api/v1/instances/:instanceId/reservation/confirm': WRITE_VA,
  'POST /api/v1/instances/:instanceId/reservation/return': WRITE_VA,
  'POST /api/v1/accounts/:accountId/webhooks': ADMIN_ACCOUNT,
  'GET /api/v1/accounts/:accountId/webhooks': READ_ACCOUNT,
  'DELETE /api/v1/webhooks/:webhookId': ADMIN_ACCOUNT,
  'POST /api/v1/webhooks/:webhookId/test': WRITE_ACCOUNT,
  'GET /api/v1/webhooks/:webhookId/deliveries': READ_ACCOUNT,
};

describe('every role against every admin route', () => {
  let t: TestApp;
  const keys = {} as Record<Who, string>;
  let accountId: string;
  let labId: string;
  let otherVaId: string;
  let n = 0;
  const unique = (prefix: string) => `${prefix}-${++n}`;

  const owner = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const answer = await sendJson<T>(`${t.url}${path}`, {
      method,
      body,
      headers: { authorization: `Bearer ${t.ownerKey}` },
    });
    expect(answer.status, `${method} ${path}: ${JSON.stringify(answer.body)}`).toBeLessThan(300);
    return answer.body;
  };
  const grant = async (email: string, account: string, role: string, vaId?: string) =>
    owner<{ id: string; apiKey: string; keyId: string }>('POST', '/api/v1/users', {
      email,
      accountId: account,
      role,
      ...(vaId ? { vaId } : {}),
    });

  beforeAll(async () => {
    t = await startTestApp();
    keys.owner = t.ownerKey;
    accountId = (await owner<{ id: string }>('POST', '/api/v1/accounts', { name: 'Acme' })).id;
    labId = (await owner<{ id: string }>('POST', `/api/v1/accounts/${accountId}/virtual-accounts`, { name: 'Lab' })).id;
    otherVaId = (
      await owner<{ id: string }>('POST', `/api/v1/accounts/${accountId}/virtual-accounts`, { name: 'Shop' })
    ).id;
    const beta = (await owner<{ id: string }>('POST', '/api/v1/accounts', { name: 'Beta' })).id;
    await owner('POST', `/api/v1/virtual-accounts/${labId}/licenses`, { tag: 'T', count: 100 });
    keys.accAdmin = (await grant('acc-admin@acme.example', accountId, 'admin')).apiKey;
    keys.accUser = (await grant('acc-user@acme.example', accountId, 'user')).apiKey;
    keys.accViewer = (await grant('acc-viewer@acme.example', accountId, 'viewer')).apiKey;
    keys.vaAdmin = (await grant('va-admin@acme.example', accountId, 'admin', labId)).apiKey;
    keys.vaUser = (await grant('va-user@acme.example', accountId, 'user', labId)).apiKey;
    keys.vaViewer = (await grant('va-viewer@acme.example', accountId, 'viewer', labId)).apiKey;
    keys.other = (await grant('admin@beta.example', beta, 'admin')).apiKey;
  });
  afterAll(() => t.dispose());

  /** Fresh targets for one call, so that what one allowed call changes never spoils the next. */
  const fixture = async (param: string): Promise<string> => {
    switch (param) {
      case 'accountId':
        return accountId;
      case 'vaId':
        return labId;
      case 'kind':
        return 'licenses';
      case 'tokenId':
        return (await owner<{ id: string }>('POST', `/api/v1/virtual-accounts/${labId}/tokens`, {})).id;
      case 'instanceId': {
        const id = randomUUID();
        await t.database.db
          .insertInto('instances')
          .values({
            id,
            va_id: labId,
            token_id: null,
            pid: 'C9300',
            sn: unique('SN'),
            hostname: null,
            software_tag: 'sw',
            public_key_spki: '',
            id_cert_pem: '',
            id_cert_serial: unique('serial'),
            id_cert_expires_at: t.clock.now() + 1e10,
            registered_at: t.clock.now(),
            last_contact_at: t.clock.now(),
            export_controlled: 0,
          })
          .execute();
        return id;
      }
      case 'userId':
        return (await grant(`${unique('someone')}@acme.example`, accountId, 'viewer', labId)).id;
      case 'keyId':
        return (await grant(`${unique('someone')}@acme.example`, accountId, 'viewer', labId)).keyId;
      case 'pakId':
        return (
          await owner<{ id: string }>('POST', `/api/v1/accounts/${accountId}/paks`, {
            number: unique('PAK'),
            skus: [{ sku: 'S1', tag: 'T', quantity: 5 }],
          })
        ).id;
      case 'conversionId': {
        // A device-led conversion waiting for an admin, as a device's report over the caps leaves it.
        const id = randomUUID();
        await t.database.db
          .insertInto('device_conversion_requests')
          .values({
            id,
            account_id: accountId,
            va_id: labId,
            instance_id: randomUUID(),
            udi: `PID:C9300 SN:${unique('SN')}`,
            legacy_id: unique('PAK'),
            tag: 'T',
            display_name: null,
            count: 500,
            type: 'perpetual',
            ends_at: null,
            status: 'pending',
            reason: 'over-license-cap',
            requested_at: t.clock.now(),
            decided_at: null,
            decided_by: null,
          })
          .execute();
        return id;
      }
      case 'webhookId':
        return (
          await owner<{ id: string }>('POST', `/api/v1/accounts/${accountId}/webhooks`, {
            url: 'http://127.0.0.1:9/hook',
          })
        ).id;
      default:
        throw new Error(`No fixture for route parameter :${param}; add one to access-roles.e2e.test.ts`);
    }
  };

  /** A valid-looking body per route (allowed calls may still answer 400: only 403 matters). */
  const bodyFor = (route: string): unknown => {
    switch (route) {
      case 'POST /api/v1/accounts':
        return { name: unique('Account') };
      case 'POST /api/v1/accounts/:accountId/virtual-accounts':
        return { name: unique('VA') };
      case 'POST /api/v1/virtual-accounts/:vaId/licenses':
        return { tag: 'T', count: 1 };
      case 'POST /api/v1/virtual-accounts/:vaId/licenses/transfer':
        return { tag: 'T', count: 1, toVaId: otherVaId };
      case 'POST /api/v1/instances/:instanceId/transfer':
        return { toVaId: otherVaId };
      case 'POST /api/v1/users':
        return { email: `${unique('new')}@acme.example`, accountId, role: 'viewer', vaId: labId };
      case 'POST /api/v1/paks/:pakId/convert':
        return { vaId: labId };
      case 'POST /api/v1/accounts/:accountId/paks':
        return { number: unique('PAK'), skus: [{ sku: 'S1', tag: 'T', quantity: 1 }] };
      case 'POST /api/v1/accounts/:accountId/webhooks':
        return { url: 'http://127.0.0.1:9/hook' };
      case 'POST /api/v1/tags':
        return { tag: unique('tag') };
      case 'POST /api/v1/virtual-accounts/:vaId/reservation-settings':
        return { allowed: true };
      case 'PATCH /api/v1/virtual-accounts/:vaId/conversion-settings':
        return { mode: 'on' };
      default:
        return {};
    }
  };

  const deniedCount = async (): Promise<number> => {
    const row = await t.database.db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('type', '=', 'access.denied')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  };

  const adminRoutes = () =>
    t.app.routeTable.filter((r) => r.access !== undefined).map((r) => ({ key: `${r.method} ${r.url}`, ...r }));

  it('has an expected permission for every admin route, and no expectation for a route that is not served', () => {
    const served = adminRoutes().map((r) => r.key);
    expect(
      served.filter((key) => !(key in EXPECTED)),
      'add these to EXPECTED',
    ).toEqual([]);
    expect(
      Object.keys(EXPECTED).filter((key) => !served.includes(key)),
      'no longer served',
    ).toEqual([]);
  });

  it.each(EVERYONE)('%s: exactly the allowed routes pass; the others are refused and logged', async (who) => {
    const wrong: string[] = [];
    for (const route of adminRoutes()) {
      const expected = EXPECTED[route.key];
      if (!expected) continue;
      let path = route.url;
      for (const [, param] of route.url.matchAll(/:([A-Za-z0-9_]+)/g)) {
        path = path.replace(`:${param}`, encodeURIComponent(await fixture(param!)));
      }
      const body = route.method === 'GET' || route.method === 'DELETE' ? undefined : bodyFor(route.key);
      const before = await deniedCount();
      const answer = await sendJson<{ code?: string; message?: string }>(`${t.url}${path}`, {
        method: route.method,
        body,
        headers: { authorization: `Bearer ${keys[who]}` },
      });
      const denied = (await deniedCount()) - before;
      const allowed = expected.includes(who);
      if (
        allowed &&
        (answer.status === 403 || answer.status === 401 || answer.status === 404 || answer.status >= 500)
      ) {
        wrong.push(`${route.key}: expected allowed, got ${answer.status} ${JSON.stringify(answer.body)}`);
      }
      if (!allowed && (answer.status !== 403 || answer.body.code !== 'FORBIDDEN' || denied !== 1)) {
        wrong.push(`${route.key}: expected 403 and one access.denied, got ${answer.status} (${denied} logged)`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('names the role, the place and the action in the refusal, and logs who was refused', async () => {
    t.clock.advance(1000);
    const answer = await sendJson<{ code: string; message: string }>(
      `${t.url}/api/v1/virtual-accounts/${labId}/licenses`,
      {
        method: 'POST',
        body: { tag: 'T', count: 1 },
        headers: { authorization: `Bearer ${keys.vaViewer}` },
      },
    );
    expect(answer.status).toBe(403);
    expect(answer.body).toMatchObject({
      code: 'FORBIDDEN',
      message: "Your role viewer on Virtual Account 'Lab' does not allow changing licenses.",
    });
    const events = await sendJson<{ items: Array<{ type: string; actor: string; detail: Record<string, unknown> }> }>(
      `${t.url}/api/v1/virtual-accounts/${labId}/events?type=access.denied&limit=1`,
      { headers: { authorization: `Bearer ${keys.accAdmin}` } },
    );
    expect(events.body.items[0]).toMatchObject({
      type: 'access.denied',
      actor: 'user:va-viewer@acme.example',
      detail: { method: 'POST', route: '/api/v1/virtual-accounts/:vaId/licenses', action: 'write' },
    });

    const stranger = await sendJson<{ message: string }>(`${t.url}/api/v1/virtual-accounts/${labId}/tokens`, {
      headers: { authorization: `Bearer ${keys.other}` },
    });
    expect(stranger.body.message).toBe("You have no role on Virtual Account 'Lab', which reading tokens needs.");
  });

  it('lists refusals of owner-only routes to the owner only, with who, route and action', async () => {
    t.clock.advance(1000);
    const refused = await sendJson<{ code: string }>(`${t.url}/api/v1/accounts`, {
      method: 'POST',
      body: { name: 'Not mine to make' },
      headers: { authorization: `Bearer ${keys.accAdmin}` },
    });
    expect(refused.status).toBe(403);
    type Page = { items: Array<{ type: string; actor: string; accountId: string | null; detail: object }> };
    const system = await owner<Page>('GET', '/api/v1/events?scope=system&type=access.denied&limit=1');
    expect(system.items[0]).toMatchObject({
      type: 'access.denied',
      actor: 'user:acc-admin@acme.example',
      accountId: null,
      detail: { method: 'POST', route: '/api/v1/accounts', action: 'write' },
    });
    const all = await owner<Page>('GET', '/api/v1/events?type=access.denied&limit=500');
    expect(all.items.some((e) => e.accountId === null)).toBe(true);
    expect(all.items.some((e) => e.accountId === accountId)).toBe(true);

    for (const who of ['accAdmin', 'vaAdmin', 'other'] as const) {
      const answer = await sendJson(`${t.url}/api/v1/events?scope=system`, {
        headers: { authorization: `Bearer ${keys[who]}` },
      });
      expect(answer.status, who).toBe(403);
    }
    const inAccount = await sendJson<Page>(
      `${t.url}/api/v1/accounts/${accountId}/events?type=access.denied&limit=500`,
      {
        headers: { authorization: `Bearer ${keys.accAdmin}` },
      },
    );
    expect(inAccount.body.items.length).toBeGreaterThan(0);
    expect(inAccount.body.items.some((e) => (e.detail as { route?: string }).route === '/api/v1/accounts')).toBe(false);
  });

  it('shows a key with a role on one VA only that VA of the account', async () => {
    const list = await sendJson<Array<{ name: string }>>(`${t.url}/api/v1/accounts/${accountId}/virtual-accounts`, {
      headers: { authorization: `Bearer ${keys.vaUser}` },
    });
    expect(list.body.map((va) => va.name)).toEqual(['Lab']);
    const all = await sendJson<Array<{ name: string }>>(`${t.url}/api/v1/accounts/${accountId}/virtual-accounts`, {
      headers: { authorization: `Bearer ${keys.accViewer}` },
    });
    expect(all.body.map((va) => va.name)).toEqual(expect.arrayContaining(['Lab', 'Shop']));
    expect(all.body.length).toBeGreaterThan(2);
  });

  it('shows each key only the Smart Accounts where it holds a role', async () => {
    const list = await sendJson<Array<{ name: string }>>(`${t.url}/api/v1/accounts`, {
      headers: { authorization: `Bearer ${keys.vaViewer}` },
    });
    expect(list.body.map((a) => a.name)).toEqual(['Acme']);
  });
});
