import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { snapshotTables } from '../test-support/fuzz.js';
import { sendJson } from '../test-support/http.js';
import { describeEachEngine } from '../test-support/postgres.js';
import { satelliteRow } from '../test-support/store-rows.js';
import { startTestApp, type TestApp } from '../test-support/test-app.js';
import { OPENAPI_PATH } from './openapi.js';

/**
 * The role matrix: every role, and an admin of another account, tries every admin route of
 * the OpenAPI document (`GET /api/v1/openapi.json`), so that a new route is covered by
 * default: a documented admin route missing from EXPECTED fails the first test. Exactly the
 * allowed callers pass the access check. The others are refused, leave one `access.denied`
 * event where the caller belongs, and change nothing: a caller holding a role on the target
 * gets 403 naming what it lacks; a caller holding none (another account's admin, or anyone
 * on a route about another user) gets exactly the answer of an id that does not exist.
 * EXPECTED is written by hand, independently of the routes' `config.access`, so that a wrong
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
/** Routes about a user who is a viewer on Lab (and a key of theirs scoped to Lab): the owner and admins over Lab. */
const ABOUT_LAB_USER: Who[] = ['owner', 'accAdmin', 'vaAdmin'];

/** Who may call each admin route of the OpenAPI document; add a row for every new route. */
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
  'DELETE /api/v1/users/:userId/roles': ADMIN_VA,
  'POST /api/v1/users/:userId/api-keys': ABOUT_LAB_USER,
  'GET /api/v1/users/:userId/api-keys': ABOUT_LAB_USER,
  'POST /api/v1/api-keys/:keyId/revoke': ABOUT_LAB_USER,
  /** A password carries every role of its user: the owner, and admins over Lab (the user's only place). */
  'POST /api/v1/users/:userId/password': ABOUT_LAB_USER,
  'GET /api/v1/virtual-accounts/:vaId/events': READ_VA,
  'GET /api/v1/accounts/:accountId/events': READ_ACCOUNT,
  /** Events of every account and of none (refusals of owner-only routes): system-wide. */
  'GET /api/v1/events': OWNER,
  'POST /api/v1/tags': OWNER,
  /** The tag tree is global product data every license reader needs to read its license rows; only writing is the owner's. */
  'GET /api/v1/tags': EVERYONE,
  'GET /api/v1/virtual-accounts/:vaId/reports/:kind': READ_VA,
  'GET /api/v1/vas/:vaId/usage-history': READ_VA,
  'GET /api/v1/vas/:vaId/forecast': READ_VA,
  'POST /api/v1/jobs/run': OWNER,
  /** Repairs every VA's usage totals: system-wide, the owner only; one VA's: its admins. */
  'POST /api/v1/usage/reconcile': OWNER,
  'POST /api/v1/virtual-accounts/:vaId/usage/reconcile': ADMIN_VA,
  /** A backup holds the PKI's private keys, secrets.key and the admin key: the owner only. */
  'POST /api/v1/backup': OWNER,
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
  'POST /api/v1/instances/:instanceId/usage-reports': WRITE_VA,
  'POST /api/v1/instances/:instanceId/slac-requests': WRITE_VA,
  'POST /api/v1/virtual-accounts/:vaId/policy': ADMIN_VA,
  'GET /api/v1/virtual-accounts/:vaId/policy': READ_VA,
  'POST /api/v1/instances/:instanceId/reservation/confirm': WRITE_VA,
  'POST /api/v1/instances/:instanceId/reservation/return': WRITE_VA,
  'POST /api/v1/accounts/:accountId/webhooks': ADMIN_ACCOUNT,
  'GET /api/v1/accounts/:accountId/webhooks': READ_ACCOUNT,
  'DELETE /api/v1/webhooks/:webhookId': ADMIN_ACCOUNT,
  /** A test fire makes the server send a request on demand: admins only. */
  'POST /api/v1/webhooks/:webhookId/test': ADMIN_ACCOUNT,
  'GET /api/v1/webhooks/:webhookId/deliveries': READ_ACCOUNT,
  /** A satellite takes VAs of the account away from this node: admins of the account. */
  'POST /api/v1/satellites': ADMIN_ACCOUNT,
  'GET /api/v1/satellites': READ_ACCOUNT,
  'DELETE /api/v1/satellites/:satelliteId': ADMIN_ACCOUNT,
  /** A file names its satellite only inside a signed document: the owner loads it (File Sync…). */
  'POST /api/v1/satellites/file-sync': OWNER,
};

/**
 * Refused callers of Acme who hold no role on the place that refuses them, and so get the
 * not-found answer rather than 403 (by default an Acme caller gets 403: it holds a role on
 * Lab and in Acme). The transfers' destination is the VA "Shop", where VA roles on Lab are nothing.
 */
const NOT_FOUND_FOR: Record<string, Who[]> = {
  'POST /api/v1/virtual-accounts/:vaId/licenses/transfer': ['vaAdmin', 'vaUser'],
  'POST /api/v1/instances/:instanceId/transfer': ['vaAdmin', 'vaUser'],
};

/** Query parameters that name a place, filled in even when optional. */
const PLACE_PARAMS = ['accountId', 'vaId'];

interface Operation {
  parameters?: Array<{ name: string; in: string; required?: boolean }>;
  security?: unknown[];
  'x-smartlic-access'?: { action: string; scope: string };
}

interface AdminRoute {
  key: string;
  method: string;
  url: string;
  scope: string;
  query: string[];
}

interface Answer {
  status: number;
  code: string | undefined;
  message: string | undefined;
}

describeEachEngine('every role against every admin route of the OpenAPI document', (engine) => {
  let t: TestApp;
  const keys = {} as Record<Who, string>;
  let accountId: string;
  let betaId: string;
  let labId: string;
  let otherVaId: string;
  let routes: AdminRoute[];
  let n = 0;
  const unique = (prefix: string) => `${prefix}-${++n}`;

  const owner = async <T>(method: string, path: string, body?: unknown, key = t.ownerKey): Promise<T> => {
    const answer = await sendJson<T>(`${t.url}${path}`, { method, body, headers: { authorization: `Bearer ${key}` } });
    expect(answer.status, `${method} ${path}: ${JSON.stringify(answer.body)}`).toBeLessThan(300);
    return answer.body;
  };
  const grant = async (email: string, account: string, role: string, vaId?: string, key = t.ownerKey) =>
    owner<{ id: string; apiKey: string; keyId: string }>(
      'POST',
      '/api/v1/users',
      { email, accountId: account, role, ...(vaId ? { vaId } : {}) },
      key,
    );

  beforeAll(async () => {
    // The webhook fixtures point at 127.0.0.1:9 (nothing is sent off this machine).
    t = await startTestApp({ webhookAllowPrivate: true, engine });
    keys.owner = t.ownerKey;
    accountId = (await owner<{ id: string }>('POST', '/api/v1/accounts', { name: 'Acme' })).id;
    labId = (await owner<{ id: string }>('POST', `/api/v1/accounts/${accountId}/virtual-accounts`, { name: 'Lab' })).id;
    otherVaId = (
      await owner<{ id: string }>('POST', `/api/v1/accounts/${accountId}/virtual-accounts`, { name: 'Shop' })
    ).id;
    betaId = (await owner<{ id: string }>('POST', '/api/v1/accounts', { name: 'Beta' })).id;
    await owner('POST', `/api/v1/virtual-accounts/${labId}/licenses`, { tag: 'T', count: 100 });
    keys.accAdmin = (await grant('acc-admin@acme.example', accountId, 'admin')).apiKey;
    keys.accUser = (await grant('acc-user@acme.example', accountId, 'user')).apiKey;
    keys.accViewer = (await grant('acc-viewer@acme.example', accountId, 'viewer')).apiKey;
    keys.vaAdmin = (await grant('va-admin@acme.example', accountId, 'admin', labId)).apiKey;
    keys.vaUser = (await grant('va-user@acme.example', accountId, 'user', labId)).apiKey;
    keys.vaViewer = (await grant('va-viewer@acme.example', accountId, 'viewer', labId)).apiKey;
    keys.other = (await grant('admin@beta.example', betaId, 'admin')).apiKey;

    const doc = await sendJson<{ paths: Record<string, Record<string, Operation>> }>(`${t.url}${OPENAPI_PATH}`);
    expect(doc.status).toBe(200);
    routes = Object.entries(doc.body.paths).flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(([, op]) => op.security !== undefined)
        .map(([method, op]) => {
          const url = path.replace(/\{([^}]+)\}/g, ':$1');
          return {
            key: `${method.toUpperCase()} ${url}`,
            method: method.toUpperCase(),
            url,
            scope: op['x-smartlic-access']?.scope ?? 'unknown',
            // Required query parameters, and the optional ones that name a place (the test's place is Lab).
            query: (op.parameters ?? [])
              .filter((p) => p.in === 'query' && (p.required || PLACE_PARAMS.includes(p.name)))
              .map((p) => p.name),
          };
        }),
    );
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
        // Issued by the Lab admin, so scoped to Lab: the admins over Lab may revoke it.
        return (await grant(`${unique('someone')}@acme.example`, accountId, 'viewer', labId, keys.vaAdmin)).keyId;
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
      case 'satelliteId': {
        const id = randomUUID();
        await t.database.db
          .insertInto('satellites')
          .values(satelliteRow(id, accountId, unique('sat'), t.clock.now()))
          .execute();
        return id;
      }
      default:
        throw new Error(`No fixture for parameter ${param}; add one to access-roles.e2e.test.ts`);
    }
  };

  /** A valid-looking body per route (allowed calls may still answer 400: only refusals matter). */
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
      case 'POST /api/v1/virtual-accounts/:vaId/policy':
        return { licenseClass: 'enforced', firstReportDays: 1, reportingFrequencyDays: 1, onChangeDays: 1 };
      case 'PATCH /api/v1/virtual-accounts/:vaId/conversion-settings':
        return { mode: 'on' };
      case 'POST /api/v1/satellites':
        // Serving no VA of the fixtures (a satellite would take Lab away): 400 for the allowed.
        return { name: unique('sat'), accountId, vaIds: [] };
      default:
        return {};
    }
  };

  /** A call of `route`: its path, query and body, and every id it names (to swap for unknown ones). */
  const callOf = async (route: AdminRoute) => {
    const ids = new Set([accountId, labId, otherVaId]);
    let path = route.url;
    for (const [, param] of route.url.matchAll(/:([A-Za-z0-9_]+)/g)) {
      const value = await fixture(param!);
      ids.add(value);
      path = path.replace(`:${param}`, encodeURIComponent(value));
    }
    const query = new URLSearchParams();
    for (const name of route.query) query.set(name, await fixture(name));
    const target = query.size > 0 ? `${path}?${query}` : path;
    const body = route.method === 'GET' || route.method === 'DELETE' ? undefined : bodyFor(route.key);
    return { target, body: body === undefined ? undefined : JSON.stringify(body), ids: [...ids] };
  };

  const send = async (who: Who, method: string, target: string, body: string | undefined): Promise<Answer> => {
    const answer = await sendJson<{ code?: string; message?: string }>(`${t.url}${target}`, {
      method,
      ...(body === undefined ? {} : { rawBody: body }),
      headers: { authorization: `Bearer ${keys[who]}` },
    });
    return { status: answer.status, code: answer.body?.code, message: answer.body?.message };
  };

  /** Every row of every table (events other than refusals, keys' last use and delivery attempts left out): what a refusal must not change. */
  const snapshot = (): Promise<string> =>
    snapshotTables(t.database.db, (table, row) => {
      if (table === 'events') return row.type === 'access.denied' ? undefined : row;
      if (table === 'api_keys') {
        const { last_used_at: _used, ...rest } = row;
        return rest;
      }
      // Deliveries are retried in the background while the test runs: only which ones exist counts.
      if (table === 'webhook_deliveries') return row.id;
      return row;
    });

  const refusalIds = async (): Promise<Set<string>> =>
    new Set(
      (await t.database.db.selectFrom('events').select('id').where('type', '=', 'access.denied').execute()).map(
        (row) => row.id,
      ),
    );
  const newRefusals = async (before: Set<string>) =>
    (
      await t.database.db
        .selectFrom('events')
        .select(['id', 'account_id', 'va_id'])
        .where('type', '=', 'access.denied')
        .execute()
    ).filter((row) => !before.has(row.id));

  it('has an expected permission for every admin route of the document, and none for a route not served', () => {
    const documented = routes.map((r) => r.key);
    expect(routes.length).toBeGreaterThan(30);
    expect(
      documented.filter((key) => !(key in EXPECTED)),
      'admin routes of the OpenAPI document with no expected roles: add them to EXPECTED in access-roles.e2e.test.ts',
    ).toEqual([]);
    expect(
      Object.keys(EXPECTED).filter((key) => !documented.includes(key)),
      'rows of EXPECTED for routes the document no longer has',
    ).toEqual([]);
    const served = t.app.routeTable.filter((r) => r.access !== undefined).map((r) => `${r.method} ${r.url}`);
    expect(
      served.filter((key) => !documented.includes(key)),
      'admin routes missing from the document',
    ).toEqual([]);
  });

  it.each(EVERYONE)(
    '%s: exactly the allowed routes pass; the others are refused, logged at home, change nothing',
    async (who) => {
      const wrong: string[] = [];
      const home = who === 'other' ? [betaId] : [accountId];
      for (const route of routes) {
        const expected = EXPECTED[route.key];
        if (!expected) continue;
        const call = await callOf(route);
        const allowed = expected.includes(who);
        const before = allowed ? '' : await snapshot();
        const refusedBefore = await refusalIds();
        const answer = await send(who, route.method, call.target, call.body);
        if (allowed) {
          if ([401, 403, 404].includes(answer.status) || answer.status >= 500) {
            wrong.push(`${route.key}: expected allowed, got ${answer.status} ${answer.message}`);
          }
          continue;
        }
        const refusals = await newRefusals(refusedBefore);
        if (refusals.length !== 1) wrong.push(`${route.key}: ${refusals.length} access.denied events, expected 1`);
        const loggedAt = refusals[0]?.account_id ?? null;
        if (route.scope === 'system' ? loggedAt !== null : !home.includes(loggedAt ?? '')) {
          wrong.push(`${route.key}: refusal logged in account ${loggedAt}, not where the caller belongs`);
        }
        if ((await snapshot()) !== before) wrong.push(`${route.key}: a refused call changed the database`);
        const hidden =
          route.scope === 'user' ||
          (route.scope !== 'system' && (who === 'other' || NOT_FOUND_FOR[route.key]?.includes(who)));
        if (!hidden) {
          if (answer.status !== 403 || answer.code !== 'FORBIDDEN') {
            wrong.push(`${route.key}: expected 403 FORBIDDEN, got ${answer.status} ${answer.code} ${answer.message}`);
          }
          continue;
        }
        // The same answer as for an id that does not exist: swapping one id of the call for an
        // unknown one gives the same answer, naming the unknown id where this one names the real one.
        if (answer.status !== 404 || answer.code !== 'NOT_FOUND') {
          wrong.push(`${route.key}: expected the not-found answer, got ${answer.status} ${answer.message}`);
          continue;
        }
        const probes: string[] = [];
        let same = false;
        for (const id of call.ids) {
          if (!call.target.includes(id) && !call.body?.includes(id)) continue;
          const unknownId = randomUUID();
          const swap = (text: string) => text.replaceAll(id, unknownId);
          const probe = await send(who, route.method, swap(call.target), call.body && swap(call.body));
          probes.push(`${probe.status} ${probe.message}`);
          same ||=
            probe.status === answer.status &&
            probe.code === answer.code &&
            (answer.message?.includes(id) ?? false) &&
            probe.message === answer.message?.replaceAll(id, unknownId);
        }
        if (!same)
          wrong.push(`${route.key}: "${answer.message}" is like none of the answers for an unknown id: ${probes}`);
      }
      expect(wrong).toEqual([]);
    },
  );

  it.each(['accViewer', 'vaUser', 'other'] as Who[])(
    '%s through a portal session (signed in with its key) is refused exactly what its key is refused',
    async (who) => {
      const signIn = await sendJson<{ csrfToken: string }>(`${t.url}/api/v1/session`, {
        method: 'POST',
        body: { apiKey: keys[who] },
      });
      expect(signIn.status).toBe(200);
      const cookie = /smartlic_session=([^;]*)/.exec(signIn.headers.getSetCookie().join('\n'))?.[1];
      const wrong: string[] = [];
      for (const route of routes) {
        const expected = EXPECTED[route.key];
        // Only refused calls: they change nothing, so the key's and the session's answers compare.
        if (!expected || expected.includes(who)) continue;
        const call = await callOf(route);
        const byKey = await send(who, route.method, call.target, call.body);
        const bySession = await sendJson<{ code?: string; message?: string }>(`${t.url}${call.target}`, {
          method: route.method,
          ...(call.body === undefined ? {} : { rawBody: call.body }),
          headers: { cookie: `smartlic_session=${cookie}`, 'x-csrf-token': signIn.body.csrfToken },
        });
        if (bySession.status !== byKey.status || bySession.body?.code !== byKey.code) {
          wrong.push(
            `${route.key}: key ${byKey.status} ${byKey.code}, session ${bySession.status} ${bySession.body?.code}`,
          );
        }
      }
      expect(wrong).toEqual([]);
    },
  );

  it('names the role, the place and the action in a refusal to a caller with a role there, and logs it there', async () => {
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
  });

  it("answers another account's admin as for an id that does not exist, and logs it in its own account only", async () => {
    t.clock.advance(1000);
    type Page = { items: Array<{ type: string; actor: string; accountId: string | null }> };
    const acmeBefore = await owner<Page>('GET', `/api/v1/accounts/${accountId}/events?type=access.denied&limit=500`);
    const stranger = await sendJson<{ code: string; message: string }>(
      `${t.url}/api/v1/virtual-accounts/${labId}/tokens`,
      { headers: { authorization: `Bearer ${keys.other}` } },
    );
    const missing = randomUUID();
    const nothing = await sendJson<{ code: string; message: string }>(
      `${t.url}/api/v1/virtual-accounts/${missing}/tokens`,
      { headers: { authorization: `Bearer ${keys.other}` } },
    );
    expect(stranger.status).toBe(404);
    expect(stranger.body).toMatchObject({
      code: 'NOT_FOUND',
      message: `Virtual account '${labId}' was not found, or you are not allowed to see it.`,
    });
    expect(nothing.status).toBe(404);
    expect(nothing.body.message).toBe(stranger.body.message.replace(labId, missing));
    expect(stranger.body.message).not.toContain('Lab');
    const acmeAfter = await owner<Page>('GET', `/api/v1/accounts/${accountId}/events?type=access.denied&limit=500`);
    expect(acmeAfter.items).toHaveLength(acmeBefore.items.length);
    const beta = await owner<Page>('GET', `/api/v1/accounts/${betaId}/events?type=access.denied&limit=1`);
    expect(beta.items[0]).toMatchObject({ actor: 'user:admin@beta.example', accountId: betaId });
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
