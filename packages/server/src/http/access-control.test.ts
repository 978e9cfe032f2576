import Fastify from 'fastify';
import type { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { byApiKey, byInstance, byVa, place, placeLookup, target } from '../features/access/route-targets.js';
import type { ApiPrincipal } from '../features/api-keys/api-key-service.js';
import type { Database } from '../storage/schema.js';
import type { Transactor } from '../storage/transactor.js';
import { requireAccess } from './access-control.js';
import { installErrorHandlers } from './error-handler.js';
import { adminRoute } from './route-config.js';

describe('requireAccess', () => {
  const deps = { db: {} as Kysely<Database>, transactor: {} as Transactor, clock: { now: () => 0 } };

  it('fails closed: registering an admin route without config.access throws', async () => {
    const app = Fastify();
    const registering = app.register(async (admin) => {
      requireAccess(admin, deps);
      admin.get('/api/v1/forgotten', async () => 'oops');
    });
    await expect(registering).rejects.toThrow(/GET \/api\/v1\/forgotten declares no config\.access/);
  });

  it('accepts a route that declares its access', async () => {
    const app = Fastify();
    await app.register(async (admin) => {
      requireAccess(admin, deps);
      admin.get('/api/v1/fine', { config: adminRoute('read', target.any, { summary: 'fine' }) }, async () => 'ok');
    });
    await expect(app.ready()).resolves.toBeDefined();
    await app.close();
  });

  it.each([
    ['a place parameter', '/api/v1/virtual-accounts/:id/licenses', target.va(byVa()), /names the parameter :vaId/],
    ['a user parameter', '/api/v1/keys/:id/revoke', target.user(byApiKey()), /names the parameter :keyId/],
    [
      'a destination parameter',
      '/api/v1/instances/:instanceId/move',
      target.va(byInstance(), { destination: byVa('toVaId') }),
      /names the parameter :toVaId/,
    ],
  ])('fails closed: a target naming %s the URL lacks refuses to start', async (_, url, routeTarget, message) => {
    const app = Fastify();
    const registering = app.register(async (admin) => {
      requireAccess(admin, deps);
      admin.post(url, { config: adminRoute('write', routeTarget, { summary: 'mismatched' }) }, async () => 'oops');
    });
    await expect(registering).rejects.toThrow(message);
  });

  it('accepts targets found in the body or the query, which the URL cannot show', async () => {
    const app = Fastify();
    await app.register(async (admin) => {
      requireAccess(admin, deps);
      const where = target.va([byVa('vaId', 'body'), byVa('vaId', 'query')]);
      admin.post('/api/v1/things', { config: adminRoute('write', where, { summary: 'fine' }) }, async () => 'ok');
    });
    await expect(app.ready()).resolves.toBeDefined();
    await app.close();
  });

  it("finds each route's target by its own lookups: one route's lookup changes no other route", async () => {
    const viewer: ApiPrincipal = {
      owner: false,
      keyId: 'k1',
      name: 'viewer',
      role: 'user',
      userId: 'u1',
      email: 'viewer@acme.example',
      grants: [{ accountId: 'acme', vaId: 'lab', role: 'viewer' }],
      scope: null,
    };
    // Two routes with the same parameter name: only the first knows where "i1" lives.
    const reserved = placeLookup('instanceId', 'Reserved instance', async (_db, id) =>
      id === 'i1' ? place('acme', 'lab') : undefined,
    );
    const plain = placeLookup('instanceId', 'Product instance', async () => undefined);
    const app = Fastify();
    installErrorHandlers(app);
    await app.register(async (admin) => {
      admin.addHook('onRequest', async (request) => {
        request.principal = viewer;
      });
      requireAccess(admin, deps);
      const read = (lookup: typeof plain) => adminRoute('read', target.va(lookup), { summary: 'read' });
      admin.get('/reserved/:instanceId', { config: read(reserved) }, async () => ({ ok: true }));
      admin.get('/plain/:instanceId', { config: read(plain) }, async () => ({ ok: true }));
      admin.post('/by-body', { config: read(byVaFromBody) }, async () => ({ ok: true }));
    });
    const reservedAnswer = await app.inject({ method: 'GET', url: '/reserved/i1' });
    expect(reservedAnswer.statusCode).toBe(200);
    const plainAnswer = await app.inject({ method: 'GET', url: '/plain/i1' });
    expect(plainAnswer.statusCode).toBe(404);
    expect(plainAnswer.json()).toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('Product instance'),
    });
    const bodyAnswer = await app.inject({ method: 'POST', url: '/by-body', payload: { vaId: 'lab' } });
    expect(bodyAnswer.statusCode).toBe(200);
    const noTarget = await app.inject({ method: 'POST', url: '/by-body', payload: { accountId: 'acme' } });
    expect(noTarget.json()).toMatchObject({ code: 'BAD_REQUEST' });
    await app.close();
  });
});

/** A VA named by the body's `vaId`, resolved without a database. */
const byVaFromBody = placeLookup(
  'vaId',
  'Virtual account',
  async (_db, id) => (id === 'lab' ? place('acme', 'lab') : undefined),
  'body',
);
