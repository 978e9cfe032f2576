import { createHash } from 'node:crypto';
import fastifyRateLimit from '@fastify/rate-limit';
import { SmartlicError } from '@smartlic/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { WindowCounter } from './window-counter.js';

/**
 * Request limits, each per minute (SPEC §10 "rate limits"). A request over a limit is answered
 * `429 RATE_LIMITED` with `Retry-After` (seconds until the window ends) and changes nothing.
 */
export interface RateLimits {
  /** Registrations per source address. */
  register: number;
  /** Registrations per registration token. */
  registerPerToken: number;
  /** Other device messages (authorize, renew-id, deregister, convert) per product instance. */
  device: number;
  /** Admin API requests per API key. */
  admin: number;
  /**
   * Failed authentications per source address: an unknown, malformed or revoked API key, or an
   * unknown registration token. Once reached, every admin request and registration from that
   * address is answered 429 until the window ends, whatever key or token it carries.
   */
  authFailures: number;
  /** Portal sign-in attempts (`POST /api/v1/session`) per source address, right or wrong. */
  signIn: number;
  /** Failed portal sign-ins per e-mail address (whatever the source address); then that e-mail is refused 429. */
  signInPerEmail: number;
  /**
   * Satellite registrations and syncs over the network (`/api/v1/satellite-sync/*`) per source
   * address, counted before the body is read: a flood never gets its bodies parsed.
   */
  satelliteSync: number;
  /** Network syncs per satellite (the request's `satelliteId`, once the body is parsed). */
  satelliteSyncPerSatellite: number;
}

/**
 * Defaults that real use does not reach: a site of 500 devices behind one NAT address that all
 * register at once after an outage, with one token, fits in a minute; a device sends a few
 * messages a month; a busy portal or script stays well under 50 admin requests a second; a
 * satellite syncs monthly or when its operator asks, with one or two requests each time. A
 * flood, a token or key guesser, or one compromised key is slowed to these rates.
 */
export const DEFAULT_RATE_LIMITS: RateLimits = {
  register: 600,
  registerPerToken: 600,
  device: 120,
  admin: 3000,
  authFailures: 30,
  signIn: 60,
  signInPerEmail: 10,
  satelliteSync: 60,
  satelliteSyncPerSatellite: 20,
};

/** The window every limit counts in. */
export const RATE_LIMIT_WINDOW_MS = 60_000;

/** Hooks that enforce {@link RateLimits}; each throws `RATE_LIMITED` when its limit is reached. */
export interface RateLimiter {
  /** Registration (preHandler, body parsed): failed-authentication gate, per address, per token. */
  register(request: FastifyRequest): Promise<void>;
  /** Other device messages (preHandler, body parsed): per product instance named in the body. */
  device(request: FastifyRequest): Promise<void>;
  /**
   * {@link device} for a body parsed outside fastify (the device lane, `device-lane.ts`): throws
   * `RATE_LIMITED` when the product instance the body names is over its limit, else counts it.
   */
  deviceBody(body: unknown): void;
  /** Admin API, before the key is checked: refuses an address over its failed-authentication limit. */
  authGate(request: FastifyRequest): Promise<void>;
  /** Admin API, after the key is checked: per API key. */
  admin(request: FastifyRequest): Promise<void>;
  /** Portal sign-in (preHandler, body parsed): failed-authentication gate, per address, failures per e-mail. */
  signIn(request: FastifyRequest): Promise<void>;
  /** Satellite registration and sync over the network (onRequest, before the body is read): per address. */
  satelliteSync(request: FastifyRequest): Promise<void>;
  /** Satellite sync (preHandler, body parsed): per satellite named in the request. */
  satelliteSyncPerSatellite(request: FastifyRequest): Promise<void>;
}

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

const ALLOWED: Promise<void> = Promise.resolve();

/**
 * Installs `@fastify/rate-limit` (in-memory counters, per server process) and returns the hooks
 * the routes declare; with `'off'` the hooks do nothing. Failed authentications are counted by an
 * `onError` hook on `app`, so install this before any route.
 */
export async function installRateLimits(app: FastifyInstance, limits: RateLimits | 'off'): Promise<RateLimiter> {
  if (limits === 'off') {
    const none = async (): Promise<void> => undefined;
    return {
      register: none,
      device: none,
      deviceBody: () => undefined,
      authGate: none,
      admin: none,
      signIn: none,
      satelliteSync: none,
      satelliteSyncPerSatellite: none,
    };
  }
  await app.register(fastifyRateLimit, { global: false });
  const limiter = (max: number, keyGenerator?: (request: FastifyRequest) => string): Limiter =>
    app.createRateLimit({ max, timeWindow: RATE_LIMIT_WINDOW_MS, ...(keyGenerator ? { keyGenerator } : {}) });
  const perAddress = limiter(limits.register);
  const perToken = limiter(limits.registerPerToken, (r) => `token:${digest(payloadField(r.body, 'idToken'))}`);
  // The most frequent requests are counted without the plugin's promises (same algorithm).
  const perInstance = new WindowCounter(limits.device, RATE_LIMIT_WINDOW_MS, Date.now);
  const perKey = limiter(limits.admin, (r) => `key:${r.principal?.keyId ?? ''}`);
  const authFailures = limiter(limits.authFailures);
  const signInPerAddress = limiter(limits.signIn, (r) => `sign-in:${r.ip}`);
  const signInPerEmail = limiter(limits.signInPerEmail, (r) => `sign-in-email:${digest(signInEmail(r))}`);
  const satelliteSyncPerAddress = limiter(limits.satelliteSync, (r) => `satellite-sync:${r.ip}`);
  const satelliteSyncPerSatellite = limiter(
    limits.satelliteSyncPerSatellite,
    (r) => `satellite:${digest(payloadField(r.body, 'satelliteId'))}`,
  );

  app.addHook('onError', async (request, _reply, error) => {
    if (isAuthFailure(request, error)) await authFailures(request);
    if (error instanceof SmartlicError && error.code === 'SIGN_IN_FAILED' && signInEmail(request) !== undefined) {
      await signInPerEmail(request);
    }
  });
  const deviceBody = (body: unknown): void => {
    const instanceId = payloadField(body, 'instanceId');
    if (instanceId === undefined) return;
    const count = perInstance.hit(instanceId);
    if (!count.allowed) throw rateLimited(count.ttlMs / 1000);
  };
  const authGate = async (request: FastifyRequest): Promise<void> => {
    const seen = await authFailures(request, { increment: false });
    if (!seen.isAllowed && seen.remaining <= 0) throw rateLimited(seen.ttlInSeconds);
  };
  return {
    authGate,
    async register(request) {
      await authGate(request);
      await enforce(perAddress, request);
      if (payloadField(request.body, 'idToken') !== undefined) await enforce(perToken, request);
    },
    device(request) {
      try {
        deviceBody(request.body);
        return ALLOWED;
      } catch (error) {
        return Promise.reject(error);
      }
    },
    deviceBody,
    admin: (request) => enforce(perKey, request),
    async signIn(request) {
      await authGate(request);
      await enforce(signInPerAddress, request);
      if (signInEmail(request) === undefined) return;
      const seen = await signInPerEmail(request, { increment: false });
      if (!seen.isAllowed && seen.remaining <= 0) throw rateLimited(seen.ttlInSeconds);
    },
    satelliteSync: (request) => enforce(satelliteSyncPerAddress, request),
    async satelliteSyncPerSatellite(request) {
      if (payloadField(request.body, 'satelliteId') !== undefined) await enforce(satelliteSyncPerSatellite, request);
    },
  };
}

async function enforce(limiter: Limiter, request: FastifyRequest): Promise<void> {
  const result = await limiter(request);
  if (!result.isAllowed && result.isExceeded) throw rateLimited(result.ttlInSeconds);
}

/** `RATE_LIMITED`, telling the client how many seconds to wait (`Retry-After`). */
export function rateLimited(seconds: number): SmartlicError {
  const wait = Math.max(1, Math.ceil(seconds));
  return new SmartlicError('RATE_LIMITED', { params: { seconds: wait }, context: { retryAfterSeconds: wait } });
}

/** A guess at a credential: a presented API key that was not accepted, or an unknown registration token. */
function isAuthFailure(request: FastifyRequest, error: unknown): boolean {
  if (!(error instanceof SmartlicError)) return false;
  if (error.code === 'TOKEN_INVALID' || error.code === 'SIGN_IN_FAILED') return true;
  return error.code === 'UNAUTHENTICATED' && request.headers.authorization !== undefined;
}

/** A string field of a device message's (or sync document's) payload (the body is parsed, not yet validated). */
function payloadField(body: unknown, name: 'idToken' | 'instanceId' | 'satelliteId'): string | undefined {
  const payload = (body as { payload?: Record<string, unknown> } | null | undefined)?.payload;
  const value = payload?.[name];
  return typeof value === 'string' ? value : undefined;
}

/** The e-mail of a portal sign-in (the body is parsed, not yet validated), as it is compared. */
function signInEmail(request: FastifyRequest): string | undefined {
  const email = (request.body as { email?: unknown } | null | undefined)?.email;
  return typeof email === 'string' ? email.trim().toLowerCase() : undefined;
}

/** Tokens are counted under a digest, so that the limiter holds no secret. */
function digest(value: string | undefined): string {
  return createHash('sha256')
    .update(value ?? '')
    .digest('base64url')
    .slice(0, 22);
}
