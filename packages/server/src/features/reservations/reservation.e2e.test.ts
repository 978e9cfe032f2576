import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  confirmationCode,
  deriveReservationMacKey,
  encodeRequestCode,
  ManualClock,
  newRequestNonce,
  newReservationKeyPair,
  parseAuthorizationCode,
  returnCode,
  verifyAuthorizationCode,
} from '@smartlic/protocol';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../http/app.js';
import { DEFAULT_RATE_LIMITS } from '../../http/rate-limits.js';
import { type OpenDatabase, openSqliteDatabase, rawDatabaseOf } from '../../storage/database.js';
import { migrateToLatest } from '../../storage/migrate.js';
import { createTransactor } from '../../storage/transactor.js';
import { sendJson } from '../../test-support/http.js';
import { describeEachEngine } from '../../test-support/postgres.js';
import { makeTempDir } from '../../test-support/temp-dir.js';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';
import { ensureBootstrapAdminKey } from '../api-keys/bootstrap-admin-key.js';
import { backupSourceOf } from '../backup/backup-service.js';
import { loadOrCreatePki } from '../pki/authority-pki.js';

const TAG = 'regid.2026-01.com.example.A_1.0';

/** The device's half of the exchange, with the protocol's pure functions. */
function offlineDevice(sn: string) {
  const key = newReservationKeyPair();
  const udi = { pid: 'C9300-24UX', sn };
  const requestCode = encodeRequestCode({ udi, nonce: newRequestNonce(), devicePublicKey: key.publicKey });
  const macFor = (authorizationCode: string) => {
    const { payload } = parseAuthorizationCode(authorizationCode);
    return { payload, mac: deriveReservationMacKey(key.privateKeyPem, payload.authorityKey, payload.reservationId) };
  };
  return { udi, requestCode, macFor };
}

describeEachEngine('reservation API', (engine) => {
  let t: TestServer;
  let vaId: string;
  let otherVa: string;

  const post = (path: string, body: unknown) => t.admin.request<Record<string, unknown>>('POST', path, body);
  const inUse = async (va = vaId) => (await t.admin.listLicenses(va)).find((l) => l.tag === TAG)?.inUse ?? 0;

  beforeAll(async () => {
    t = await startTestServer({ engine, clock: new ManualClock(Date.UTC(2026, 0, 1)) });
    const account = await t.admin.createAccount('Air Gap', 'airgap.example');
    vaId = (await t.admin.createVa(account.id, 'Bunker')).id;
    otherVa = (await t.admin.createVa(account.id, 'Closed')).id;
    await t.admin.addLicense(vaId, { tag: TAG, count: 10 });
    await t.admin.addLicense(otherVa, { tag: TAG, count: 10 });
    await post(`/api/v1/virtual-accounts/${vaId}/reservation-settings`, { allowed: true });
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('reserves, counts once in inUse, and signs a code the device verifies', async () => {
    const device = offlineDevice('RES1');
    const created = await post(`/api/v1/virtual-accounts/${vaId}/reservations`, {
      requestCode: device.requestCode,
      licenses: [
        { tag: TAG, count: 2 },
        { tag: TAG, count: 1 },
      ],
    });
    expect(created.status).toBe(201);
    const code = parseAuthorizationCode(created.body.authorizationCode as string);
    verifyAuthorizationCode(code, [t.rootCaPem], t.clock.now());
    expect(code.payload.licenses).toEqual([{ tag: TAG, count: 3 }]);
    expect(await inUse()).toBe(3);

    // The same UDI cannot also register online (it would count twice), not even with force.
    const token = await t.admin.createToken(vaId);
    const online = await t.device('C9300-24UX', 'RES1').register(token.token, { force: true });
    expect(online.status).toBe(409);
    expect(await inUse()).toBe(3);

    // The same request code twice: refused.
    const again = await post(`/api/v1/virtual-accounts/${vaId}/reservations`, {
      requestCode: device.requestCode,
      licenses: [{ tag: TAG, count: 1 }],
    });
    expect(again.body).toMatchObject({
      code: 'RESERVATION_CODE_USED',
      message: 'This request code has already been used.',
    });

    // An update cancelled by a return code for its (never installed) authorization code.
    const instanceId = created.body.instanceId as string;
    const { mac } = device.macFor(created.body.authorizationCode as string);
    const updated = await post(`/api/v1/instances/${instanceId}/reservation`, { licenses: [{ tag: TAG, count: 6 }] });
    expect(await inUse()).toBe(6);
    const u = parseAuthorizationCode(updated.body.authorizationCode as string).payload;
    const cancel = returnCode(mac, 'return-authorization', {
      reservationId: u.reservationId,
      sequence: 2,
      udi: device.udi,
    });
    const cancelled = await post(`/api/v1/instances/${instanceId}/reservation/return`, { code: cancel });
    expect(cancelled.body).toMatchObject({ status: 'reserved', sequence: 1 });
    expect(await inUse()).toBe(3);

    // A wrong confirmation code (for another sequence): refused, nothing changes.
    await post(`/api/v1/instances/${instanceId}/reservation`, { licenses: [{ tag: TAG, count: 4 }] });
    const wrong = confirmationCode(mac, { reservationId: u.reservationId, sequence: 2, udi: device.udi });
    const refused = await post(`/api/v1/instances/${instanceId}/reservation/confirm`, { code: wrong });
    expect(refused.status).toBe(400);
    expect(await inUse()).toBe(4);
    const right = confirmationCode(mac, { reservationId: u.reservationId, sequence: 3, udi: device.udi });
    expect((await post(`/api/v1/instances/${instanceId}/reservation/confirm`, { code: right })).body).toMatchObject({
      status: 'reserved',
      sequence: 3,
    });
    const replayed = await post(`/api/v1/instances/${instanceId}/reservation/confirm`, { code: right });
    expect(replayed.body).toMatchObject({ code: 'RESERVATION_CODE_USED' });

    const ret = returnCode(mac, 'return', { reservationId: u.reservationId, sequence: 3, udi: device.udi });
    expect((await post(`/api/v1/instances/${instanceId}/reservation/return`, { code: ret })).status).toBe(200);
    expect(await inUse()).toBe(0);
    expect((await post(`/api/v1/instances/${instanceId}/reservation/return`, { code: ret })).body).toMatchObject({
      code: 'RESERVATION_CODE_USED',
      message: 'This return code has already been used.',
    });
    const events = await t.admin.request<{ items: Array<{ type: string }> }>(
      'GET',
      `/api/v1/virtual-accounts/${vaId}/events?limit=100`,
    );
    expect(events.status).toBe(200);
    {
      const types = events.body.items.map((e) => e.type);
      for (const type of [
        'reservation.created',
        'reservation.updated',
        'reservation.confirmed',
        'reservation.returned',
      ]) {
        expect(types).toContain(type);
      }
    }
  });

  it('refuses: not allowed in the VA, more than available, a UDI registered online', async () => {
    const closed = await post(`/api/v1/virtual-accounts/${otherVa}/reservations`, {
      requestCode: offlineDevice('RES2').requestCode,
      licenses: [{ tag: TAG, count: 1 }],
    });
    expect(closed.body).toMatchObject({ code: 'RESERVATION_NOT_ALLOWED' });
    const tooMany = await post(`/api/v1/virtual-accounts/${vaId}/reservations`, {
      requestCode: offlineDevice('RES3').requestCode,
      licenses: [{ tag: TAG, count: 11 }],
    });
    expect(tooMany.body).toMatchObject({ code: 'RESERVATION_INSUFFICIENT' });
    const token = await t.admin.createToken(vaId);
    expect((await t.device('C9300-24UX', 'ONLINE1').register(token.token)).status).toBe(200);
    const online = await post(`/api/v1/virtual-accounts/${vaId}/reservations`, {
      requestCode: offlineDevice('ONLINE1').requestCode,
      licenses: [{ tag: TAG, count: 1 }],
    });
    expect(online.body).toMatchObject({ code: 'ALREADY_REGISTERED' });
    expect(await inUse()).toBe(0);
  });

  it('keeps a reservation through a year of silence: the lifecycle jobs leave it alone', async () => {
    const created = await post(`/api/v1/virtual-accounts/${vaId}/reservations`, {
      requestCode: offlineDevice('SILENT1').requestCode,
      licenses: [{ tag: TAG, count: 2 }],
    });
    expect(created.status).toBe(201);
    t.clock.advance(400 * 86_400_000);
    const jobs = await post('/api/v1/jobs/run', {});
    expect(jobs.status).toBeLessThan(300);
    expect(await inUse()).toBe(2);
    const instances = await t.admin.request<unknown>('GET', `/api/v1/virtual-accounts/${vaId}/instances`);
    expect(JSON.stringify(instances.body)).toContain(created.body.instanceId as string);
  });

  it('refuses to remove or transfer a reserved instance without its return code, changing nothing', async () => {
    const account = await t.admin.createAccount('Held', 'held.example');
    const held = (await t.admin.createVa(account.id, 'Held')).id;
    const elsewhere = (await t.admin.createVa(account.id, 'Elsewhere')).id;
    await t.admin.addLicense(held, { tag: TAG, count: 5 });
    await post(`/api/v1/virtual-accounts/${held}/reservation-settings`, { allowed: true });
    const created = await post(`/api/v1/virtual-accounts/${held}/reservations`, {
      requestCode: offlineDevice('HELD1').requestCode,
      licenses: [{ tag: TAG, count: 1 }],
    });
    expect(created.status).toBe(201);
    const instanceId = created.body.instanceId as string;
    expect(await inUse(held)).toBe(1);
    const removed = await t.admin.request<{ code: string; message: string }>(
      'DELETE',
      `/api/v1/instances/${instanceId}`,
    );
    expect(removed.status).toBe(409);
    expect(removed.body.message).toMatch(/holds a license reservation.*return code/);
    const moved = await post(`/api/v1/instances/${instanceId}/transfer`, { toVaId: elsewhere });
    expect(moved.status).toBe(409);
    expect(await inUse(held)).toBe(1);
    expect(await inUse(elsewhere)).toBe(0);
  });

  it('makes a PLR (all features, no counts)', async () => {
    const plr = await post(`/api/v1/virtual-accounts/${vaId}/reservations/plr`, {
      requestCode: offlineDevice('PLR1').requestCode,
    });
    expect(plr.status).toBe(201);
    expect(parseAuthorizationCode(plr.body.authorizationCode as string).payload).toMatchObject({
      plr: true,
      licenses: [],
    });
    expect(await inUse()).toBe(2);
  });
});

describeEachEngine('reservation over the license hierarchy', (engine) => {
  const PARENT = 'C9500 Network Advantage';
  const CHILD = 'C9500 32C NW Advantage';
  const SIBLING = 'C9500 24Y4C NW Advantage';
  let t: TestServer;
  let vaId: string;

  const post = (path: string, body: unknown) => t.admin.request<Record<string, unknown>>('POST', path, body);
  const row = async (tag: string) => (await t.admin.licenseDetails(vaId)).find((r) => r.tag === tag);
  const reserve = (sn: string, licenses: Array<{ tag: string; count: number }>) => {
    const device = offlineDevice(sn);
    return {
      device,
      answer: post(`/api/v1/virtual-accounts/${vaId}/reservations`, { requestCode: device.requestCode, licenses }),
    };
  };

  beforeAll(async () => {
    t = await startTestServer({ engine, clock: new ManualClock(Date.UTC(2026, 0, 1)) });
    vaId = (await t.admin.setupVa()).vaId;
    await t.admin.ok('POST', '/api/v1/tags', { tag: CHILD, parent: PARENT }, 200);
    await t.admin.ok('POST', '/api/v1/tags', { tag: SIBLING, parent: PARENT }, 200);
    await t.admin.addLicense(vaId, { tag: PARENT, count: 5 });
    await post(`/api/v1/virtual-accounts/${vaId}/reservation-settings`, { allowed: true });
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('reserves a child tag from its parent pool, as online devices see it, and gives it back on return', async () => {
    // More than child (0) and parent (5) have together: refused, nothing held.
    const tooMany = await reserve('HIER0', [{ tag: CHILD, count: 6 }]).answer;
    expect(tooMany.status).toBe(409);
    expect(tooMany.body).toMatchObject({
      code: 'RESERVATION_INSUFFICIENT',
      message: `The Virtual Account does not have enough '${CHILD}' licenses available: 6 asked, 5 available.`,
    });
    expect(await row(CHILD)).toBeUndefined();

    // 3 of the child, covered by the parent; the code names the tag the device asked for.
    const { device, answer } = reserve('HIER1', [{ tag: CHILD, count: 3 }]);
    const created = await answer;
    expect(created.status).toBe(201);
    expect(parseAuthorizationCode(created.body.authorizationCode as string).payload.licenses).toEqual([
      { tag: CHILD, count: 3 },
    ]);
    expect(await row(CHILD)).toMatchObject({
      quantity: 0,
      inUse: 3,
      parent: PARENT,
      coveredByOwn: 0,
      coveredBy: [{ tag: PARENT, count: 3 }],
      surplus: 0,
      alerts: [],
    });
    expect(await row(PARENT)).toMatchObject({ quantity: 5, inUse: 0, lentToChildren: 3, surplus: 2, alerts: [] });

    // A sibling draws on the same parent pool: only 2 are left for it, and two tags of one
    // request cannot both take the parent's last licenses.
    const sibling = await reserve('HIER2', [{ tag: SIBLING, count: 3 }]).answer;
    expect(sibling.body).toMatchObject({ code: 'RESERVATION_INSUFFICIENT' });
    expect((sibling.body as { message: string }).message).toContain('3 asked, 2 available');
    const both = await reserve('HIER3', [
      { tag: CHILD, count: 2 },
      { tag: SIBLING, count: 1 },
    ]).answer;
    expect((both.body as { message: string }).message).toContain(
      `'${CHILD}' licenses available: 2 asked, 1 available`, // the sibling's 1 (first by name) took one of the 2
    );

    // An online device asking for 3 of the child gets the parent's last 2: out of compliance.
    const token = (await t.admin.createToken(vaId)).token;
    const online = t.device();
    expect((await online.register(token)).status).toBe(200);
    const status = async () =>
      ((await online.authorize([{ tag: CHILD, count: 3 }])).body as { payload: { status: string } }).payload.status;
    expect(await status()).toBe('OutOfCompliance');
    expect(await row(CHILD)).toMatchObject({ inUse: 6, coveredBy: [{ tag: PARENT, count: 5 }], surplus: -1 });
    expect(await row(PARENT)).toMatchObject({ lentToChildren: 5, surplus: 0 });

    // Returning the reservation gives the parent's licenses back.
    const { payload, mac } = device.macFor(created.body.authorizationCode as string);
    const code = returnCode(mac, 'return', { reservationId: payload.reservationId, sequence: 1, udi: device.udi });
    const returned = await post(`/api/v1/instances/${created.body.instanceId as string}/reservation/return`, { code });
    expect(returned.status).toBe(200);
    expect(await status()).toBe('InCompliance');
    expect(await row(CHILD)).toMatchObject({ inUse: 3, coveredBy: [{ tag: PARENT, count: 3 }], surplus: 0 });
    expect(await row(PARENT)).toMatchObject({ lentToChildren: 3, surplus: 2 });
  });

  it('counts what an update still holds until it is confirmed against the shared parent pool', async () => {
    // The online device holds 3 of the parent's 5; a reservation takes the other 2.
    const { device, answer } = reserve('HIER4', [{ tag: CHILD, count: 2 }]);
    const created = await answer;
    expect(created.status).toBe(201);
    const instanceId = created.body.instanceId as string;
    expect(await row(PARENT)).toMatchObject({ lentToChildren: 5, surplus: 0 });
    // Moving it to the sibling would hold both codes' counts until confirmed: refused.
    const moved = await post(`/api/v1/instances/${instanceId}/reservation`, { licenses: [{ tag: SIBLING, count: 2 }] });
    expect((moved.body as { message: string }).message).toContain(
      `'${SIBLING}' licenses available: 2 asked, 0 available`,
    );
    // Lowering it is fine, and the return gives everything back.
    const lowered = await post(`/api/v1/instances/${instanceId}/reservation`, { licenses: [{ tag: CHILD, count: 1 }] });
    expect(lowered.status).toBe(200);
    const { payload, mac } = device.macFor(created.body.authorizationCode as string);
    const code = returnCode(mac, 'return', { reservationId: payload.reservationId, sequence: 1, udi: device.udi });
    expect((await post(`/api/v1/instances/${instanceId}/reservation/return`, { code })).status).toBe(200);
    expect(await row(CHILD)).toMatchObject({ inUse: 3, coveredBy: [{ tag: PARENT, count: 3 }] });
    expect(await row(PARENT)).toMatchObject({ lentToChildren: 3, surplus: 2 });
  });
});

describe('reservation through a satellite', () => {
  it('answers every reservation route with one refusal', async () => {
    const dir = makeTempDir();
    const clock = new ManualClock();
    let database: OpenDatabase | undefined;
    let app: FastifyInstance | undefined;
    try {
      database = openSqliteDatabase(join(dir.path, 'smartlic.db'));
      await migrateToLatest(database.db);
      const transactor = createTransactor(database);
      const pki = await loadOrCreatePki({ dataDir: dir.path, clock });
      const key = await ensureBootstrapAdminKey({ dataDir: dir.path, transactor, clock });
      const apiKey = readFileSync(key.path, 'utf8').trim();
      app = await buildApp({
        db: database.db,
        raw: rawDatabaseOf(database),
        deviceStatements: database.deviceStatements,
        backup: backupSourceOf(dir.path, database),
        pki,
        clock,
        logger: pino({ level: 'silent' }),
        transactor,
        rateLimits: DEFAULT_RATE_LIMITS,
        mode: 'satellite',
      });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
      const headers = { authorization: `Bearer ${apiKey}` };
      const account = await sendJson<{ id: string }>(`${url}/api/v1/accounts`, {
        method: 'POST',
        body: { name: 'Sat' },
        headers,
      });
      const va = await sendJson<{ id: string }>(`${url}/api/v1/accounts/${account.body.id}/virtual-accounts`, {
        method: 'POST',
        body: { name: 'Site' },
        headers,
      });
      const answers = await Promise.all([
        sendJson(`${url}/api/v1/virtual-accounts/${va.body.id}/reservation-settings`, {
          method: 'POST',
          body: { allowed: true },
          headers,
        }),
        sendJson(`${url}/api/v1/virtual-accounts/${va.body.id}/reservations`, {
          method: 'POST',
          body: { requestCode: offlineDevice('SAT1').requestCode, licenses: [{ tag: TAG, count: 1 }] },
          headers,
        }),
      ]);
      for (const answer of answers) {
        expect(answer.status).toBe(403);
        expect(answer.body).toMatchObject({
          code: 'RESERVATION_SATELLITE',
          message: 'Reservation is not available through a satellite.',
        });
      }
    } finally {
      await app?.close();
      await database?.close();
      dir.remove();
    }
  });
});
