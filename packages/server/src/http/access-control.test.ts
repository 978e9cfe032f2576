import Fastify from 'fastify';
import type { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { byApiKey, byInstance, byVa, target } from '../features/access/route-targets.js';
import type { Database } from '../storage/schema.js';
import type { Transactor } from '../storage/transactor.js';
import { requireAccess } from './access-control.js';
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
});
