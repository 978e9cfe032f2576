import { randomBytes, randomUUID } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import { type Clock, type ComplianceStatus, DEFAULT_TIMERS, DEVICE_ROUTES } from '@smartlic/protocol';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { type ChangeFeed, createLocalChangeFeed } from '../cluster/change-feed.js';
import { DEFAULT_PORTAL_DIR } from '../config.js';
import { createSecretBox, SECRET_KEY_BYTES, type SecretBox } from '../crypto/secret-box.js';
import { registerAccountRoutes } from '../features/accounts/account-routes.js';
import { createAccountService } from '../features/accounts/account-service.js';
import { PlaceCache } from '../features/accounts/place-cache.js';
import { createApiKeyService } from '../features/api-keys/api-key-service.js';
import { createKeyUseRecorder } from '../features/api-keys/key-use-recorder.js';
import { registerBackupRoutes } from '../features/backup/backup-routes.js';
import type { BackupSource } from '../features/backup/backup-service.js';
import { registerUsageRoutes } from '../features/compliance/usage-routes.js';
import { registerDeviceConversionRoutes } from '../features/conversion/device-conversion-routes.js';
import { createDeviceConversionService } from '../features/conversion/device-conversion-service.js';
import { registerPakRoutes } from '../features/conversion/pak-routes.js';
import { createPakService } from '../features/conversion/pak-service.js';
import { registerDeviceRoutes } from '../features/device/device-routes.js';
import { createDeviceService } from '../features/device/device-service.js';
import { registerEventRoutes } from '../features/events/event-routes.js';
import { createEventService } from '../features/events/event-service.js';
import { registerForecastRoutes } from '../features/forecast/forecast-routes.js';
import { createForecastService } from '../features/forecast/forecast-service.js';
import { InstanceKeyCache } from '../features/instances/instance-key-cache.js';
import { registerInstanceRoutes } from '../features/instances/instance-routes.js';
import { createInstanceService } from '../features/instances/instance-service.js';
import { registerLicenseRoutes } from '../features/licenses/license-routes.js';
import { createLicenseService } from '../features/licenses/license-service.js';
import { assertRefusalsMatchRoutes } from '../features/mode/satellite-refusals.js';
import type { PkiHolder } from '../features/pki/pki-holder.js';
import { registerPolicyAdminRoutes, registerPolicyDeviceRoutes } from '../features/policy/policy-routes.js';
import { createPolicyService } from '../features/policy/policy-service.js';
import { registerReportRoutes } from '../features/reports/report-routes.js';
import { createReportService } from '../features/reports/report-service.js';
import { registerReservationRoutes } from '../features/reservations/reservation-routes.js';
import { createReservationService } from '../features/reservations/reservation-service.js';
import type { SyncPki } from '../features/satellites/satellite-pki-port.js';
import { registerSatelliteRoutes, registerSatelliteSyncRoutes } from '../features/satellites/satellite-routes.js';
import { createSatelliteService } from '../features/satellites/satellite-service.js';
import { defaultSyncPki } from '../features/satellites/sync-pki.js';
import { registerSessionRoutes } from '../features/sessions/session-routes.js';
import { createSessionService, DEFAULT_SESSION_IDLE_MS } from '../features/sessions/session-service.js';
import { registerSyncRoutes } from '../features/sync/sync-routes.js';
import { createSyncService, SYNC_JOB_INTERVAL_MS } from '../features/sync/sync-service.js';
import { fetchUpstream, type UpstreamSend } from '../features/sync/upstream-client.js';
import { registerTagRoutes } from '../features/tags/tag-routes.js';
import { createTagService } from '../features/tags/tag-service.js';
import { TagTreeCache } from '../features/tags/tag-tree.js';
import { registerTokenRoutes } from '../features/tokens/token-routes.js';
import { createTokenService } from '../features/tokens/token-service.js';
import { registerUserRoutes } from '../features/users/user-routes.js';
import { createUserService } from '../features/users/user-service.js';
import { createWebhookJobs, type WebhookJobs } from '../features/webhooks/webhook-jobs.js';
import { registerWebhookRoutes } from '../features/webhooks/webhook-routes.js';
import { createWebhookSender } from '../features/webhooks/webhook-sender.js';
import { createWebhookService } from '../features/webhooks/webhook-service.js';
import { systemResolver, type WebhookTargetPolicy } from '../features/webhooks/webhook-target.js';
import { createJobLock } from '../jobs/job-lock.js';
import { registerJobRoutes } from '../jobs/job-routes.js';
import { createJobRunner } from '../jobs/job-runner.js';
import { serverJobs } from '../jobs/server-jobs.js';
import type { Logger } from '../logger.js';
import type { RawDatabase } from '../storage/database.js';
import type { DeviceStatements } from '../storage/device-statements.js';
import type { Database } from '../storage/schema.js';
import type { Transactor } from '../storage/transactor.js';
import { SERVER_VERSION } from '../version.js';
import { requireAccess } from './access-control.js';
import { requirePrincipal } from './admin-auth.js';
import { createDeviceLane } from './device-lane.js';
import { clientErrorHandler, frameworkErrors, installErrorHandlers } from './error-handler.js';
import { installGracefulClose } from './graceful-close.js';
import { installJsonBodyParser } from './json-body.js';
import { lazySchemaCompilers } from './lazy-schema-compilers.js';
import { BODY_LIMIT_BYTES, MAX_PARAM_LENGTH } from './limits.js';
import { registerOpsRoutes } from './metrics/ops-routes.js';
import { createServerMetrics } from './metrics/server-metrics.js';
import { collectRoutes, registerOpenApiRoute } from './openapi.js';
import { installPortal } from './portal-static.js';
import { installRateLimits, type RateLimits } from './rate-limits.js';
import { RequestLog } from './request-log.js';
import { refuseAuthorityOnlyRoutes } from './satellite-gate.js';
import { registerServerInfoRoute, registerSystemRoutes } from './system-routes.js';
import { warmUp } from './warm-up.js';

/** The path prefix under which the device routes are served too: the vendor's transport URL path. */
export const SMART_TRANSPORT_PREFIX = '/SmartTransport';

declare module 'fastify' {
  interface FastifyInstance {
    /** Webhook delivery and daily summaries; `runDue()` runs what is due on the clock now. */
    webhookJobs: WebhookJobs;
  }
}

/** Everything the HTTP app is built from; `startServer` makes these, tests may make their own. */
export interface AppDeps {
  /** A migrated database. */
  db: Kysely<Database>;
  /** The driver's handle of the same database, for reads that bypass Kysely (the instances report). */
  raw: RawDatabase;
  /** What `POST /api/v1/backup` copies: the data directory and, for SQLite, the open database. */
  backup: BackupSource;
  /**
   * The PKI devices are answered with, swappable while running: empty on a satellite until its
   * registration, replaced by `installSatelliteCertificate` on registration and renewal.
   */
  pki: PkiHolder;
  /**
   * A satellite's upstream (its authority or middle satellite) from `--upstream`, for the sync
   * client; undefined on the authority or when not given.
   */
  upstream?: string;
  clock: Clock;
  logger: Logger;
  /** Request limits per minute (`DEFAULT_RATE_LIMITS` for real use); `'off'` for benchmarks that flood on purpose. */
  rateLimits: RateLimits | 'off';
  /** Tolerated device clock offset; default one hour. */
  clockToleranceMs?: number;
  /** `satellite` refuses what only the authority does (`http/satellite-refusals.ts`); default `authority`. */
  mode?: 'authority' | 'satellite';
  /** The engine's transactor over `db` (`createTransactor(database)`). */
  transactor: Transactor;
  /** The authorization's prepared statements (`database.deviceStatements`). */
  deviceStatements: DeviceStatements;
  /** Period of the lifecycle jobs (real time); default one hour. */
  jobIntervalMs?: number;
  /** Real time from listening to the first run of every background job; default 5 s (`DEFAULT_JOB_START_DELAY_MS`). */
  jobStartDelayMs?: number;
  /**
   * Encrypts webhook secrets and token values at rest; `startServer` passes the box of `<data>/secrets.key`
   * (`prepareSecretsAtRest`). Default: a random key held in memory only (tests), so secrets
   * written by this app cannot be read by another.
   */
  secrets?: SecretBox;
  /**
   * Where webhooks may be sent. Default: public addresses only, names resolved by the system
   * resolver — the safe setting; `startServer` passes the operator's choice.
   */
  webhookTargets?: WebhookTargetPolicy;
  /** Serve HTTPS with this certificate chain and key (PEM); default plain HTTP. */
  https?: { cert: string; key: string };
  /**
   * How this process hears of changes other processes on the same database make to what it
   * caches; `startServer` passes LISTEN/NOTIFY on PostgreSQL. Default: alone on the database.
   */
  changes?: ChangeFeed;
  /** Idle timeout of portal sessions; default 30 minutes (`--session-idle-minutes`). */
  sessionIdleMs?: number;
  /** The built portal served at `/` (`packages/portal/dist`); when it has no index.html, `/` says to build it. */
  portalDir?: string;
  /**
   * The PKI functions of satellites and their syncs (ADR 0012). Default: this node's signing
   * certificate signs sync responses, and satellite CAs are issued from `<data>/pki`.
   */
  syncPki?: SyncPki;
  /** How a satellite calls its upstream; default `fetch`. */
  upstreamSend?: UpstreamSend;
}

/**
 * Builds the fastify app (not listening): device routes, admin REST API behind API keys,
 * health and root CA; device routes and the admin API are rate limited (`http/rate-limits.ts`). Closing the app waits for queued database work.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { db, pki, clock, logger } = deps;
  const { transactor } = deps;
  const clockToleranceMs = deps.clockToleranceMs ?? DEFAULT_TIMERS.clockToleranceMs;
  const secrets = deps.secrets ?? createSecretBox(randomBytes(SECRET_KEY_BYTES));
  const webhookTargets = deps.webhookTargets ?? { allowPrivate: false, resolve: systemResolver };
  // Renewals are answered by the device lane (ADR 0026), ahead of fastify, once the app is built.
  const lane = createDeviceLane([DEVICE_ROUTES.authorize, `${SMART_TRANSPORT_PREFIX}${DEVICE_ROUTES.authorize}`]);

  const app = Fastify({
    // As the base logger type, so that the app is a plain FastifyInstance for the routes.
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Errors before routing and connections that are not valid HTTP answer {code, message, requestId} too.
    frameworkErrors,
    clientErrorHandler,
    genReqId: () => randomUUID(),
    logController: new RequestLog(),
    // Requests that arrive while closing get our own 503 (installGracefulClose).
    return503OnClosing: false,
    schemaController: { compilersFactory: lazySchemaCompilers() },
    ...(deps.https ? { https: deps.https } : {}),
    serverFactory: lane.serverFactory(deps.https),
  }) as unknown as FastifyInstance;

  const routes = collectRoutes(app);
  const metrics = createServerMetrics(deps.transactor.commitStatistics);
  // Before every other hook: requests refused by a rate limit or an API key are counted too.
  registerOpsRoutes(app, metrics, db);
  app.decorateRequest('principal', null);
  app.decorateRequest('portalSession', null);
  await app.register(fastifyCookie);
  const parseJson = installJsonBodyParser(app);
  const portal = await installPortal(app, deps.portalDir ?? DEFAULT_PORTAL_DIR);
  const reportError = installErrorHandlers(app, { fallback: portal });
  const closing = installGracefulClose(app);
  const limits = await installRateLimits(app, deps.rateLimits);
  app.addHook('onClose', async () => {
    await transactor.drain();
  });

  const cache = new InstanceKeyCache();
  const changes = deps.changes ?? createLocalChangeFeed();
  const tagTree = new TagTreeCache(db, changes);
  const deviceDeps = {
    db,
    transactor,
    statements: deps.deviceStatements,
    clock,
    pki,
    cache,
    places: new PlaceCache(),
    clockToleranceMs,
    logger,
    tags: tagTree,
  };
  const device = createDeviceService(deviceDeps);
  const policy = createPolicyService(deviceDeps);
  // API key uses are written off the request path, flushed every few seconds and before closing.
  const keyUses = createKeyUseRecorder({
    transactor,
    onError: (error) => logger.warn({ err: error }, 'Recording API key uses failed; will retry'),
  });
  const apiKeys = createApiKeyService({ db, clock, keyUses });
  const sessions = createSessionService({
    db,
    transactor,
    clock,
    idleTimeoutMs: deps.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS,
  });
  const accounts = createAccountService({ db, transactor, clock });
  const licenses = createLicenseService({ db, transactor, clock, tags: tagTree, logger, changes });
  const tokens = createTokenService({ db, transactor, clock, secrets });
  const instances = createInstanceService({ db, clock, transactor, keyCache: cache, tags: tagTree });
  const jobDeps = {
    transactor,
    keyCache: cache,
    logger,
    clock,
    clockToleranceMs,
    onRun: (outcome: 'ok' | 'failed') => metrics.jobRuns.inc({ outcome }),
  };
  const paks = createPakService({ db, transactor, clock });
  const send = createWebhookSender(webhookTargets);
  const webhookJobs = createWebhookJobs({
    db,
    transactor,
    clock,
    secrets,
    logger,
    send,
    onRun: ({ delivered, failed }) => {
      if (delivered > 0) metrics.webhookDeliveries.inc({ outcome: 'delivered' }, delivered);
      if (failed > 0) metrics.webhookDeliveries.inc({ outcome: 'failed' }, failed);
    },
  });
  app.decorate('webhookJobs', webhookJobs);
  // Every background job (lifecycle, nonce purge, daily summaries, webhook delivery) runs in one
  // runner, first shortly after listening; it stops (aborting webhook requests in flight)
  // before queued database work is drained.
  const mode = deps.mode ?? 'authority';
  const syncPki = deps.syncPki ?? defaultSyncPki(pki, deps.backup.dataDir);
  const satellites = createSatelliteService({ db, transactor, clock, pki: syncPki, nodeName: () => mode });
  const sync =
    mode === 'satellite'
      ? createSyncService({
          db,
          transactor,
          clock,
          pki: syncPki,
          send: deps.upstreamSend ?? fetchUpstream,
          tags: tagTree,
          defaultUpstream: deps.upstream,
        })
      : undefined;
  const runner = createJobRunner({
    jobs: [
      ...serverJobs({
        jobs: jobDeps,
        clock,
        webhooks: webhookJobs,
        lifecycleIntervalMs: deps.jobIntervalMs,
        purgeSessions: (now) => sessions.purgeEnded(now),
      }),
      // A satellite's scheduled network sync (SPEC §8: default every 30 days).
      ...(sync ? [{ name: 'satellite-sync', intervalMs: SYNC_JOB_INTERVAL_MS, run: () => sync.runScheduled() }] : []),
    ],
    lock: createJobLock(db),
    logger,
    startDelayMs: deps.jobStartDelayMs,
  });
  app.addHook('onListen', async () => {
    runner.start();
    keyUses.start();
  });
  // Before listening: a warm-up after it measured no gain, as the first request came in while it ran.
  app.addHook('onReady', () => warmUp({ db, tags: tagTree, licenses, logger }));
  app.addHook('preClose', async () => {
    await Promise.all([webhookJobs.stop(), runner.stop(), keyUses.stop()]);
  });

  registerSystemRoutes(app, { mode: deps.mode ?? 'authority', version: SERVER_VERSION, pki });
  registerServerInfoRoute(app, { mode: deps.mode ?? 'authority', version: SERVER_VERSION });
  const observer = { authorized: (status: ComplianceStatus) => metrics.authorizations.inc({ status }) };
  registerDeviceRoutes(app, device, limits, observer);
  lane.open({ device, limits, observe: observer, parseJson, reportError, closing, metrics, log: logger });
  // Where `call-home destination https://host/SmartTransport` sends devices (SPEC §8), in both modes.
  registerPolicyDeviceRoutes(app, policy, limits);
  await app.register(
    async (transport) => {
      registerDeviceRoutes(transport, device, limits, observer);
      registerPolicyDeviceRoutes(transport, policy, limits);
    },
    { prefix: SMART_TRANSPORT_PREFIX },
  );
  registerSatelliteSyncRoutes(app, satellites, limits);
  registerOpenApiRoute(app, routes);
  registerSessionRoutes(app, sessions, limits);
  await app.register(async (admin) => {
    admin.addHook('onRequest', limits.authGate);
    requirePrincipal(admin, { apiKeys, sessions });
    admin.addHook('onRequest', limits.admin);
    if (deps.mode === 'satellite') refuseAuthorityOnlyRoutes(admin, deps.upstream);
    requireAccess(admin, { db, transactor, clock });
    registerUserRoutes(admin, createUserService({ db, transactor, clock, keyUses }));
    registerEventRoutes(admin, createEventService({ db }));
    registerAccountRoutes(admin, accounts);
    registerLicenseRoutes(admin, licenses);
    registerTokenRoutes(admin, tokens);
    registerInstanceRoutes(admin, instances);
    registerTagRoutes(admin, createTagService({ db, transactor, clock, cache: tagTree, changes }));
    registerReportRoutes(admin, createReportService({ db, raw: deps.raw, licenses, instances }));
    registerForecastRoutes(admin, createForecastService({ db, clock, licenses }));
    registerJobRoutes(admin, jobDeps);
    registerUsageRoutes(admin, { transactor, clock, logger });
    registerBackupRoutes(admin, { source: deps.backup, clock });
    registerPakRoutes(admin, paks);
    registerDeviceConversionRoutes(admin, createDeviceConversionService({ db, transactor, clock }));
    registerPolicyAdminRoutes(admin, policy);
    registerReservationRoutes(
      admin,
      createReservationService({ db, transactor, clock, pki, mode: deps.mode ?? 'authority' }),
    );
    registerSatelliteRoutes(admin, satellites);
    if (sync) registerSyncRoutes(admin, sync);
    registerWebhookRoutes(
      admin,
      createWebhookService({ db, transactor, clock, secrets, allowPrivate: webhookTargets.allowPrivate }),
    );
  });
  assertRefusalsMatchRoutes(routes);
  return app;
}
