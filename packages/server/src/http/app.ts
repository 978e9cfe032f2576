import { randomUUID } from 'node:crypto';
import { type Clock, DEFAULT_TIMERS } from '@smartlic/protocol';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { registerAccountRoutes } from '../features/accounts/account-routes.js';
import { createAccountService } from '../features/accounts/account-service.js';
import { createApiKeyService } from '../features/api-keys/api-key-service.js';
import { registerDeviceRoutes } from '../features/device/device-routes.js';
import { createDeviceService } from '../features/device/device-service.js';
import { InstanceKeyCache } from '../features/instances/instance-key-cache.js';
import { registerInstanceRoutes } from '../features/instances/instance-routes.js';
import { createInstanceService } from '../features/instances/instance-service.js';
import { registerLicenseRoutes } from '../features/licenses/license-routes.js';
import { createLicenseService } from '../features/licenses/license-service.js';
import type { AuthorityPki } from '../features/pki/authority-pki.js';
import { registerTokenRoutes } from '../features/tokens/token-routes.js';
import { createTokenService } from '../features/tokens/token-service.js';
import type { Logger } from '../logger.js';
import type { Database } from '../storage/schema.js';
import { createTransactor, type Transactor } from '../storage/transactor.js';
import { SERVER_VERSION } from '../version.js';
import { requireApiKey } from './admin-auth.js';
import { installErrorHandlers } from './error-handler.js';
import { installJsonBodyParser } from './json-body.js';
import { BODY_LIMIT_BYTES } from './limits.js';
import { RequestLog } from './request-log.js';
import { registerSystemRoutes } from './system-routes.js';

/** Everything the HTTP app is built from; `startServer` makes these, tests may make their own. */
export interface AppDeps {
  /** A migrated database. */
  db: Kysely<Database>;
  pki: AuthorityPki;
  clock: Clock;
  logger: Logger;
  /** Tolerated device clock offset; default one hour. */
  clockToleranceMs?: number;
  mode?: 'authority';
  /** Default: a group-commit transactor over `db`. */
  transactor?: Transactor;
}

/**
 * Builds the fastify app (not listening): device routes, admin REST API behind API keys,
 * health and root CA. Closing the app waits for queued database work.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { db, pki, clock, logger } = deps;
  const transactor = deps.transactor ?? createTransactor(db);
  const clockToleranceMs = deps.clockToleranceMs ?? DEFAULT_TIMERS.clockToleranceMs;

  const app = Fastify({
    // As the base logger type, so that the app is a plain FastifyInstance for the routes.
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: () => randomUUID(),
    logController: new RequestLog(),
    return503OnClosing: true,
  });

  app.decorateRequest('principal', null);
  installJsonBodyParser(app);
  installErrorHandlers(app);
  app.addHook('onClose', async () => {
    await transactor.drain();
  });

  const cache = new InstanceKeyCache();
  const device = createDeviceService({ db, transactor, clock, pki, cache, clockToleranceMs, logger });
  const apiKeys = createApiKeyService({ db, transactor, clock });
  const accounts = createAccountService({ db, transactor, clock });
  const licenses = createLicenseService({ db, transactor, clock });
  const tokens = createTokenService({ db, transactor, clock });
  const instances = createInstanceService({ db, clock });

  registerSystemRoutes(app, { mode: deps.mode ?? 'authority', version: SERVER_VERSION, rootCaPem: pki.rootCaPem });
  registerDeviceRoutes(app, device);
  await app.register(async (admin) => {
    requireApiKey(admin, apiKeys);
    registerAccountRoutes(admin, accounts);
    registerLicenseRoutes(admin, licenses);
    registerTokenRoutes(admin, tokens);
    registerInstanceRoutes(admin, instances);
  });
  return app;
}
