import Fastify from 'fastify';
import type { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Database } from '../storage/schema.js';
import type { Transactor } from '../storage/transactor.js';
import { requireAccess } from './access-control.js';
import { access } from './route-access.js';

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
      admin.get('/api/v1/fine', { config: access('read', 'any', { summary: 'fine' }) }, async () => 'ok');
    });
    await expect(app.ready()).resolves.toBeDefined();
    await app.close();
  });
});
