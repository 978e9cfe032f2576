import { type Clock, MINUTE, SmartlicError } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import type { ApiKeyRole, ApiKeyRow, Database } from '../../storage/schema.js';
import { type AccessSubject, type Grant, grantsWithin, type KeyScope } from '../access/access-policy.js';
import { findUserWithGrants } from '../users/user-store.js';
import { hashApiKey } from './api-key.js';
import { findApiKeyByHash } from './api-key-store.js';
import type { KeyUseRecorder } from './key-use-recorder.js';

/** Who an admin request acts as. */
export interface ApiPrincipal extends AccessSubject {
  keyId: string;
  name: string;
  role: ApiKeyRole;
  userId: string | null;
  /** The user's e-mail address; null for the owner key. */
  email: string | null;
  /** The grants of the user inside the key's scope (all of them for an unscoped key). */
  grants: Grant[];
  /** The place the key is limited to; null for an unscoped key (and the owner key). */
  scope: KeyScope | null;
}

/** How the event log names a principal: `user:<email>`, `key:<name>`, or `owner:admin` (the owner's portal session). */
export function actorOfPrincipal(principal: ApiPrincipal | null): string {
  if (!principal) return 'system';
  if (principal.email !== null) return `user:${principal.email}`;
  return principal.keyId.startsWith('session:') ? `owner:${principal.name}` : `key:${principal.name}`;
}

/** `last_used_at` is kept to this precision: a use is noted again only this long after the last one. */
export const LAST_USED_PRECISION_MS = MINUTE;

export interface ApiKeyServiceDeps {
  db: Kysely<Database>;
  clock: Clock;
  /** Where uses are noted; it writes them off the request path. */
  keyUses: KeyUseRecorder;
}

/** Authentication of admin requests by API key. */
export function createApiKeyService({ db, clock, keyUses }: ApiKeyServiceDeps) {
  return {
    /** The principal of an `Authorization: Bearer <key>` header, or `UNAUTHENTICATED`. */
    async authenticate(authorization: string | undefined): Promise<ApiPrincipal> {
      const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
      if (!match) {
        throw new SmartlicError('UNAUTHENTICATED', {
          message: authorization
            ? 'The Authorization header must be "Bearer <API key>".'
            : 'An API key is required: send it as "Authorization: Bearer <API key>".',
        });
      }
      const row = await findApiKeyByHash(db, hashApiKey(match[1]!));
      if (!row || row.revoked_at !== null) {
        throw new SmartlicError('UNAUTHENTICATED', {
          message: row ? 'This API key has been revoked.' : 'This API key is not valid.',
        });
      }
      const now = clock.now();
      const lastUsed = Math.max(keyUses.pendingOf(row.id) ?? 0, row.last_used_at ?? 0) || null;
      if (lastUsed === null || now - lastUsed >= LAST_USED_PRECISION_MS) keyUses.note(row.id, now);
      return principalOfKey(db, row);
    },
  };
}

export type ApiKeyService = ReturnType<typeof createApiKeyService>;

/** The principal a live key acts as: the owner, or its user with the grants inside the key's scope. */
export async function principalOfKey(db: Kysely<Database>, row: ApiKeyRow): Promise<ApiPrincipal> {
  const base = { keyId: row.id, name: row.name, role: row.role, userId: row.user_id };
  if (row.role === 'owner') return { ...base, owner: true, email: null, grants: [], scope: null };
  const user = row.user_id === null ? undefined : await findUserWithGrants(db, row.user_id);
  if (!user) throw new SmartlicError('UNAUTHENTICATED', { message: 'This API key belongs to no user.' });
  const scope = keyScopeOf(row);
  return { ...base, owner: false, email: user.email, grants: grantsWithin(user.grants, scope), scope };
}

/** The scope of a key row; null when unscoped. */
export function keyScopeOf(row: Pick<ApiKeyRow, 'scope_account_id' | 'scope_va_id'>): KeyScope | null {
  return row.scope_account_id ? { accountId: row.scope_account_id, vaId: row.scope_va_id ?? null } : null;
}
