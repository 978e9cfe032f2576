import { randomUUID } from 'node:crypto';
import { ManualClock } from '@smartlic/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../../test-support/temp-dir.js';
import { seedSatelliteDatabase } from '../../test-support/test-satellite.js';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';
import { AUTHORITY_ONLY_ROUTES, type AuthorityOnlyRoute } from './satellite-refusals.js';

const TAG = 'regid.2014-08.com.example.A';

/** A body each route accepts on the authority, given real ids. */
function bodyOf(route: AuthorityOnlyRoute): unknown {
  switch (route.url) {
    case '/api/v1/accounts':
      return { name: `Acme ${randomUUID().slice(0, 8)}` };
    case '/api/v1/accounts/:accountId/virtual-accounts':
      return { name: `VA ${randomUUID().slice(0, 8)}` };
    case '/api/v1/virtual-accounts/:vaId/licenses':
      return { tag: TAG, count: 2, name: 'Product A' };
    case '/api/v1/tags':
      return { tag: `regid.2014-08.com.example.${randomUUID().slice(0, 8)}`, name: 'New' };
    default:
      return {};
  }
}

function pathOf(route: AuthorityOnlyRoute, ids: { accountId: string; vaId: string }): string {
  return route.url
    .replace(':accountId', ids.accountId)
    .replace(':vaId', ids.vaId)
    .replace(':pakId', randomUUID())
    .replace(':instanceId', randomUUID());
}

describe('authority-only routes', () => {
  const clock = new ManualClock();
  let satellite: TestServer;
  let authority: TestServer;
  let satelliteIds: { accountId: string; vaId: string };
  let authorityIds: { accountId: string; vaId: string };
  const dir = makeTempDir();

  beforeAll(async () => {
    satelliteIds = await seedSatelliteDatabase(dir.path, clock, async (admin) => {
      const ids = await admin.setupVa('Site Corp');
      await admin.addLicense(ids.vaId, { tag: TAG, count: 10, name: 'Product A' });
      return ids;
    });
    satellite = await startTestServer({
      dataDir: dir.path,
      clock,
      mode: 'satellite',
      upstream: 'https://licensing.example.com',
    });
    authority = await startTestServer({ clock });
    authorityIds = await authority.admin.setupVa('Acme');
  });
  afterAll(async () => {
    await satellite?.stop();
    await authority?.dispose();
    dir.remove();
  });

  it.each(AUTHORITY_ONLY_ROUTES.map((r) => [`${r.method} ${r.url}`, r] as const))(
    'a satellite refuses %s with one sentence naming the authority, and changes nothing',
    async (_name, route) => {
      const before = await satellite.inspect(async (db) => ({
        accounts: (await db.selectFrom('smart_accounts').select('id').execute()).length,
        pools: (await db.selectFrom('license_pools').select('id').execute()).length,
      }));
      const answer = await satellite.admin.request(route.method, pathOf(route, satelliteIds), bodyOf(route));
      expect(answer.status).toBe(409);
      expect(answer.body).toMatchObject({
        code: 'NOT_ON_SATELLITE',
        message: `This satellite cannot ${route.cannot}; ${route.instead} (https://licensing.example.com) and synchronise.`,
      });
      const after = await satellite.inspect(async (db) => ({
        accounts: (await db.selectFrom('smart_accounts').select('id').execute()).length,
        pools: (await db.selectFrom('license_pools').select('id').execute()).length,
      }));
      expect(after).toEqual(before);
    },
  );

  it.each(AUTHORITY_ONLY_ROUTES.map((r) => [`${r.method} ${r.url}`, r] as const))(
    'the authority still serves %s',
    async (_name, route) => {
      const answer = await authority.admin.request(route.method, pathOf(route, authorityIds), bodyOf(route));
      expect((answer.body as { code?: string }).code).not.toBe('NOT_ON_SATELLITE');
      if (['/api/v1/accounts', '/api/v1/virtual-accounts/:vaId/licenses'].includes(route.url)) {
        expect(answer.status, JSON.stringify(answer.body)).toBe(201);
      }
      if (route.url === '/api/v1/tags') expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    },
  );

  it('lets a satellite do what it owns: tokens, listing licenses, its users', async () => {
    expect((await satellite.admin.createToken(satelliteIds.vaId)).token).toBeTruthy();
    expect(await satellite.admin.listLicenses(satelliteIds.vaId)).toMatchObject([{ tag: TAG, quantity: 10 }]);
    const user = await satellite.admin.request('POST', '/api/v1/users', {
      email: 'ops@site.example',
      accountId: satelliteIds.accountId,
      role: 'viewer',
    });
    expect(user.status, JSON.stringify(user.body)).toBe(201);
  });
});
