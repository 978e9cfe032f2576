import { randomUUID } from 'node:crypto';
import { type Clock, HOUR, MINUTE, SmartlicError } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import type { Database, PortalSessionRow, SessionKind } from '../../storage/schema.js';
import type { Transactor } from '../../storage/transactor.js';
import type { Grant } from '../access/access-policy.js';
import { hashApiKey } from '../api-keys/api-key.js';
import { type ApiPrincipal, actorOfPrincipal, principalOfKey } from '../api-keys/api-key-service.js';
import { findApiKeyByHash } from '../api-keys/api-key-store.js';
import { recordEvent } from '../events/event-recorder.js';
import { findUserWithGrants } from '../users/user-store.js';
import { OWNER_SIGN_IN_NAME } from './bootstrap-owner-password.js';
import { MAX_PASSWORD_LENGTH, verifyPassword } from './password.js';
import {
  deleteEndedSessions,
  deleteSession,
  findOwnerCredential,
  findSessionByHash,
  findUserPassword,
  insertSession,
  touchSession,
} from './session-store.js';
import { csrfTokenOf, generateSessionToken, hashSessionToken } from './session-token.js';

/** Default idle timeout of a portal session (`--session-idle-minutes`). */
export const DEFAULT_SESSION_IDLE_MS = 30 * MINUTE;
/** Absolute lifetime of a portal session, however busy. */
export const SESSION_LIFETIME_MS = 12 * HOUR;
/** `last_seen_at` is rewritten at most this often, so that reads do not each cost a durable write. */
export const SESSION_TOUCH_PRECISION_MS = MINUTE;

/** Who a portal session acts as, as the portal sees it (it derives what to offer from it). */
export interface PortalPrincipal {
  kind: 'owner' | 'user';
  id: string;
  email: string;
  name: string;
  grants: Grant[];
}

/** What `POST`/`GET /api/v1/session` answer. */
export interface SessionView {
  principal: PortalPrincipal;
  csrfToken: string;
  idleTimeoutSeconds: number;
}

/** A session found by its cookie: its row, the principal requests act as, and its view. */
export interface LiveSession {
  row: PortalSessionRow;
  principal: ApiPrincipal;
  view: SessionView;
}

/** How a person signs in: e-mail (or `admin`) and password, or an API key. */
export type Credentials = { email: string; password: string } | { apiKey: string };

export interface SessionServiceDeps {
  db: Kysely<Database>;
  transactor: Transactor;
  clock: Clock;
  /** Idle timeout in ms (`DEFAULT_SESSION_IDLE_MS` for real use). */
  idleTimeoutMs: number;
}

const signInFailed = () => new SmartlicError('SIGN_IN_FAILED');

/** Portal sessions (ADR 0016): sign-in by password or API key, lookup by cookie, sign-out. */
export function createSessionService({ db, transactor, clock, idleTimeoutMs }: SessionServiceDeps) {
  const view = (token: string, principal: ApiPrincipal): SessionView => ({
    principal: portalPrincipalOf(principal),
    csrfToken: csrfTokenOf(token),
    idleTimeoutSeconds: Math.round(idleTimeoutMs / 1000),
  });

  /** Who the credentials name, or undefined when they are not right. */
  const authenticate = async (
    credentials: Credentials,
  ): Promise<{ kind: SessionKind; userId: string | null; apiKeyId: string | null } | undefined> => {
    if ('apiKey' in credentials) {
      const row = await findApiKeyByHash(db, hashApiKey(credentials.apiKey));
      if (!row || row.revoked_at !== null) return undefined;
      if (row.role === 'owner') return { kind: 'api-key', userId: null, apiKeyId: row.id };
      return { kind: 'api-key', userId: row.user_id, apiKeyId: row.id };
    }
    if (credentials.password.length > MAX_PASSWORD_LENGTH) return undefined;
    if (credentials.email === OWNER_SIGN_IN_NAME) {
      const owner = await findOwnerCredential(db, OWNER_SIGN_IN_NAME);
      const ok = await verifyPassword(owner?.password_hash, credentials.password);
      return ok ? { kind: 'owner', userId: null, apiKeyId: null } : undefined;
    }
    const user = await findUserPassword(db, credentials.email);
    const ok = await verifyPassword(user?.password_hash, credentials.password);
    return ok && user ? { kind: 'password', userId: user.id, apiKeyId: null } : undefined;
  };

  /** The principal of a session row; undefined when what it stood on is gone (a revoked key). */
  const principalOf = async (row: PortalSessionRow): Promise<ApiPrincipal | undefined> => {
    const base = { keyId: `session:${row.id}`, scope: null };
    if (row.kind === 'owner') {
      return { ...base, name: OWNER_SIGN_IN_NAME, role: 'owner', userId: null, owner: true, email: null, grants: [] };
    }
    if (row.kind === 'api-key') {
      const key = row.api_key_id
        ? await db.selectFrom('api_keys').selectAll().where('id', '=', row.api_key_id).executeTakeFirst()
        : undefined;
      if (!key || key.revoked_at !== null) return undefined;
      // A key of no user any more ends the session; any other failure (the database) propagates.
      return principalOfKey(db, key).catch((error: unknown) => {
        if (error instanceof SmartlicError && error.code === 'UNAUTHENTICATED') return undefined;
        throw error;
      });
    }
    const user = row.user_id ? await findUserWithGrants(db, row.user_id) : undefined;
    if (!user) return undefined;
    return {
      ...base,
      name: user.email,
      role: 'user',
      userId: row.user_id,
      owner: false,
      email: user.email,
      grants: user.grants,
    };
  };

  /**
   * The live session of a cookie's token, or undefined: unknown, idle past the timeout, past
   * its lifetime, or standing on a revoked key (an ended session is deleted). A live session's
   * last use is moved to now (at most once a minute).
   */
  const resume = async (token: string): Promise<LiveSession | undefined> => {
    const row = await findSessionByHash(db, hashSessionToken(token));
    if (!row) return undefined;
    const now = clock.now();
    const principal =
      now >= row.expires_at || now - row.last_seen_at >= idleTimeoutMs ? undefined : await principalOf(row);
    if (!principal) {
      await transactor.run((trx) => deleteSession(trx, row.id));
      return undefined;
    }
    if (now - row.last_seen_at >= SESSION_TOUCH_PRECISION_MS) {
      await transactor.run((trx) => touchSession(trx, row.id, now));
    }
    return { row, principal, view: view(token, principal) };
  };

  return {
    idleTimeoutMs,

    /** Deletes the sessions that have ended as of `now` (idle past the timeout, or past their lifetime). */
    purgeEnded(now: number): Promise<number> {
      return transactor.run((trx) => deleteEndedSessions(trx, now, now - idleTimeoutMs));
    },

    /**
     * Opens a session for `credentials` and returns its token (the cookie's value, shown once)
     * with its view; the session of `previousToken` (a cookie the browser still had) is ended,
     * so that a session id planted before sign-in is never the signed-in one. Wrong
     * credentials, an unknown user or a user without a password: `SIGN_IN_FAILED`, alike.
     * Every attempt is recorded in the event log.
     */
    async signIn(
      credentials: Credentials,
      meta: { address: string; previousToken?: string | undefined },
    ): Promise<{ token: string; view: SessionView }> {
      const who = await authenticate(credentials);
      const now = clock.now();
      const named = 'apiKey' in credentials ? { via: 'api-key' } : { via: 'password', email: credentials.email };
      if (!who) {
        await transactor.run((trx) =>
          recordEvent(trx, {
            at: now,
            actor: 'system',
            type: 'session.sign-in-failed',
            detail: { ...named, address: meta.address },
          }),
        );
        throw signInFailed();
      }
      const token = generateSessionToken();
      const row: PortalSessionRow = {
        id: randomUUID(),
        token_hash: hashSessionToken(token),
        kind: who.kind,
        user_id: who.userId,
        api_key_id: who.apiKeyId,
        created_at: now,
        last_seen_at: now,
        expires_at: now + SESSION_LIFETIME_MS,
      };
      const principal = await principalOf(row);
      if (!principal) throw signInFailed();
      await transactor.run(async (trx) => {
        await deleteEndedSessions(trx, now, now - idleTimeoutMs);
        if (meta.previousToken) {
          const previous = await findSessionByHash(trx, hashSessionToken(meta.previousToken));
          if (previous) await deleteSession(trx, previous.id);
        }
        await insertSession(trx, row);
        await recordEvent(trx, {
          at: now,
          actor: actorOfPrincipal(principal),
          type: 'session.signed-in',
          detail: {
            ...named,
            sessionId: row.id,
            address: meta.address,
            ...(who.apiKeyId ? { keyId: who.apiKeyId } : {}),
          },
        });
      });
      return { token, view: view(token, principal) };
    },

    resume,

    /** Ends the session of `token` (nothing when there is none) and records it. */
    async signOut(token: string): Promise<void> {
      const now = clock.now();
      const live = await resume(token);
      if (!live) return;
      await transactor.run(async (trx) => {
        if (await deleteSession(trx, live.row.id)) {
          await recordEvent(trx, {
            at: now,
            actor: actorOfPrincipal(live.principal),
            type: 'session.signed-out',
            detail: { sessionId: live.row.id },
          });
        }
      });
    },
  };
}

export type SessionService = ReturnType<typeof createSessionService>;

/** The portal's view of a principal: the owner (may do everything) or a user with their grants. */
export function portalPrincipalOf(principal: ApiPrincipal): PortalPrincipal {
  if (principal.owner) {
    return { kind: 'owner', id: OWNER_SIGN_IN_NAME, email: OWNER_SIGN_IN_NAME, name: principal.name, grants: [] };
  }
  const email = principal.email ?? '';
  return { kind: 'user', id: principal.userId ?? '', email, name: email, grants: [...principal.grants] };
}
