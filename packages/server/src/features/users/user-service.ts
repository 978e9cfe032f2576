import { randomUUID } from 'node:crypto';
import { type Clock, SmartlicError } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import { notFound, notFoundOrNotAllowed } from '../../errors.js';
import type { ApiKeyRow, Database, Role, UserRow } from '../../storage/schema.js';
import type { Transactor } from '../../storage/transactor.js';
import { toIso } from '../../util/time.js';
import { badRequest } from '../../validation.js';
import {
  type Caller,
  effectiveRole,
  type Grant,
  grantsWithin,
  type KeyScope,
  keyInside,
  placesToActOnUser,
} from '../access/access-policy.js';
import { findAccount, findVirtualAccount } from '../accounts/account-store.js';
import { generateApiKey, hashApiKey } from '../api-keys/api-key.js';
import { keyScopeOf } from '../api-keys/api-key-service.js';
import { insertApiKey } from '../api-keys/api-key-store.js';
import type { KeyUseRecorder } from '../api-keys/key-use-recorder.js';
import { type Actor, recordEvent } from '../events/event-recorder.js';
import { OWNER_SIGN_IN_NAME } from '../sessions/bootstrap-owner-password.js';
import { hashPassword } from '../sessions/password.js';
import {
  deleteOwnerSessions,
  deleteUserSessions,
  setUserPassword,
  upsertOwnerCredential,
} from '../sessions/session-store.js';
import {
  deleteGrant,
  findKey,
  findUser,
  findUserByEmail,
  grantsOf,
  insertUserOrFind,
  listAccountUsers,
  listUserKeys,
  revokeKey,
  upsertGrant,
} from './user-store.js';

export interface UserServiceDeps {
  db: Kysely<Database>;
  transactor: Transactor;
  clock: Clock;
  /** Key uses noted but not yet written, shown in `lastUsedAt`. */
  keyUses: Pick<KeyUseRecorder, 'pendingOf'>;
}

/** Who calls a user operation: the caller's access (grants, key scope) and how the event log names it. */
export interface UserCaller extends Caller {
  actor: Actor;
}

export interface ApiKeyView {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  /** The place the key is limited to; null: unscoped, it carries every role of its user. */
  scope: KeyScope | null;
}

type Db = Kysely<Database>;

/** Users, their roles and their API keys (SPEC §2, §9; scoped keys: ADR 0006). */
export function createUserService({ db, transactor, clock, keyUses }: UserServiceDeps) {
  const keyView = (row: KeyViewRow): ApiKeyView => {
    const pending = keyUses.pendingOf(row.id);
    return pending !== undefined && (row.last_used_at ?? 0) < pending
      ? keyViewOf({ ...row, last_used_at: pending })
      : keyViewOf(row);
  };
  const newKey = (userId: string, name: string, scope: KeyScope | null, now: number) => {
    const key = generateApiKey();
    const row: ApiKeyRow = {
      id: randomUUID(),
      hash: hashApiKey(key),
      name,
      role: 'user',
      created_at: now,
      last_used_at: null,
      revoked_at: null,
      user_id: userId,
      scope_account_id: scope?.accountId ?? null,
      scope_va_id: scope?.vaId ?? null,
    };
    return { row, key };
  };

  /** Checks that a place exists and that its VA belongs to its account (400 otherwise). */
  const checkPlace = async (trx: Db, place: KeyScope, missing: (what: string, id: string) => Error) => {
    if (!(await findAccount(trx, place.accountId))) throw missing('Smart account', place.accountId);
    if (place.vaId === null) return;
    const va = await findVirtualAccount(trx, place.vaId);
    if (!va) throw missing('Virtual account', place.vaId);
    if (va.account_id !== place.accountId) {
      throw badRequest({ vaId: ['is not a virtual account of the given smart account'] });
    }
  };

  /**
   * Sets a user's portal password and ends their sessions, if the caller may: the owner, the
   * user themself with an unscoped key (or session), or an admin of every place where the user
   * holds a role (else a password would carry the admin into the user's other accounts).
   */
  const setPassword = async (trx: Db, user: UserRow, hash: string, caller: UserCaller, now: number) => {
    const grants = await grantsOf(trx, user.id);
    if (!maySetPassword(caller, user.id, grants)) {
      throw new SmartlicError('FORBIDDEN', {
        message:
          "Only the owner, the user themself, or an admin of every place where the user holds a role may set the user's password.",
      });
    }
    await setUserPassword(trx, user.id, hash);
    await deleteUserSessions(trx, user.id);
    await recordEvent(trx, {
      at: now,
      actor: caller.actor,
      type: 'user.password-set',
      detail: { userId: user.id, email: user.email },
    });
  };

  return {
    /**
     * Sets the portal password of a user (named by id or e-mail), or with `admin` the owner's
     * (the owner only), and ends their portal sessions.
     */
    async setPassword(
      who: string,
      password: string,
      caller: UserCaller,
    ): Promise<{ userId: string; email: string; endedSessions: true }> {
      const hash = await hashPassword(password);
      const now = clock.now();
      return transactor.run(async (trx) => {
        if (who === OWNER_SIGN_IN_NAME && caller.owner) {
          await upsertOwnerCredential(trx, {
            name: OWNER_SIGN_IN_NAME,
            password_hash: hash,
            created_at: now,
            updated_at: now,
          });
          await deleteOwnerSessions(trx);
          await recordEvent(trx, {
            at: now,
            actor: caller.actor,
            type: 'user.password-set',
            detail: { userId: 'admin' },
          });
          return { userId: OWNER_SIGN_IN_NAME, email: OWNER_SIGN_IN_NAME, endedSessions: true as const };
        }
        const user = (await findUser(trx, who)) ?? (await findUserByEmail(trx, who.trim().toLowerCase()));
        if (!user) throw notFoundOrNotAllowed('User', who);
        await setPassword(trx, user, hash, caller, now);
        return { userId: user.id, email: user.email, endedSessions: true as const };
      });
    },

    /**
     * Grants `role` on the account (or on `vaId`) to the user of `email`, creating the user
     * if unknown, and issues a new API key, returned once. The answer has the same shape
     * whether or not the e-mail is known elsewhere: `created` says whether the user had no
     * role in this Smart Account before. The key is unscoped when the owner asks; otherwise
     * it is scoped to the place the caller administers (the Smart Account for its admins,
     * else the VA), so that it never carries the user's rights anywhere else.
     */
    async createUser(
      input: { email: string; accountId: string; role: Role; vaId?: string | undefined; password?: string | undefined },
      caller: UserCaller,
    ): Promise<{ id: string; email: string; created: boolean; apiKey: string; keyId: string }> {
      const now = clock.now();
      const vaId = input.vaId ?? null;
      const passwordHash = input.password === undefined ? undefined : await hashPassword(input.password);
      return transactor.run(async (trx) => {
        await checkPlace(trx, { accountId: input.accountId, vaId }, notFound);
        let user: UserRow | undefined = await findUserByEmail(trx, input.email);
        if (!user) {
          user = await insertUserOrFind(trx, { id: randomUUID(), email: input.email, created_at: now });
        }
        const created = !(await grantsOf(trx, user.id)).some((g) => g.accountId === input.accountId);
        await upsertGrant(trx, {
          user_id: user.id,
          account_id: input.accountId,
          va_id: vaId ?? '',
          role: input.role,
          granted_at: now,
        });
        const scope: KeyScope | null = caller.owner
          ? null
          : {
              accountId: input.accountId,
              vaId: effectiveRole(caller, input.accountId, null) === 'admin' ? null : vaId,
            };
        const { row, key } = newKey(user.id, input.email, scope, now);
        await insertApiKey(trx, row);
        if (passwordHash !== undefined) {
          // Set only where the caller may (see setPassword); otherwise left as it is and answered
          // alike, so that the answer never tells whether the e-mail holds roles elsewhere (ADR 0006).
          if (maySetPassword(caller, user.id, await grantsOf(trx, user.id))) {
            await setPassword(trx, user, passwordHash, caller, now);
          } else {
            await recordEvent(trx, {
              at: now,
              actor: caller.actor,
              type: 'user.password-refused',
              detail: { userId: user.id, email: user.email, accountId: input.accountId },
            });
          }
        }
        await recordEvent(trx, {
          at: now,
          actor: caller.actor,
          type: created ? 'user.created' : 'user.role-granted',
          accountId: input.accountId,
          vaId,
          detail: { userId: user.id, email: user.email, role: input.role, keyId: row.id },
        });
        return { id: user.id, email: user.email, created, apiKey: key, keyId: row.id };
      });
    },

    /**
     * The users with a role in a Smart Account, with their roles there (and the names of the
     * account and VAs). `createdAt` is when the user first got a role in this account.
     */
    async listAccountUsers(accountId: string) {
      if (!(await findAccount(db, accountId))) throw notFound('Smart account', accountId);
      return (await listAccountUsers(db, accountId)).map(({ user, grants }) => ({
        id: user.id,
        email: user.email,
        createdAt: toIso(Math.min(...grants.map((g) => g.grantedAt))),
        roles: grants.map(({ grantedAt: _at, ...g }) => g),
      }));
    },

    /**
     * A new API key for a user, returned once, scoped to `scope` if given, else to where the
     * caller may act on the user: unscoped for the owner and for the user themself with an
     * unscoped key, the caller's own scope for a scoped key, or the one place the caller
     * administers where the user holds a role.
     */
    async createKey(
      userId: string,
      input: { name?: string | undefined; scope?: KeyScope | undefined },
      caller: UserCaller,
    ): Promise<ApiKeyView & { apiKey: string }> {
      const now = clock.now();
      return transactor.run(async (trx) => {
        const user = await findUser(trx, userId);
        if (!user) throw notFoundOrNotAllowed('User', userId);
        const grants = await grantsOf(trx, userId);
        const places = placesToActOnUser(caller, userId, grants);
        let scope: KeyScope | null;
        if (input.scope) {
          await checkPlace(trx, input.scope, notFoundOrNotAllowed);
          if (!keyInside(input.scope, places)) {
            const [what, id] = input.scope.vaId
              ? ['Virtual account', input.scope.vaId]
              : ['Smart account', input.scope.accountId];
            throw notFoundOrNotAllowed(what, id);
          }
          if (grantsWithin(grants, input.scope).length === 0) {
            throw badRequest({ accountId: ['the user holds no role on this place'] });
          }
          scope = input.scope;
        } else if (places === 'all') {
          scope = caller.owner || caller.scope === null ? null : caller.scope;
        } else if (places.length === 1) {
          scope = places[0]!;
        } else if (places.length === 0) {
          throw notFoundOrNotAllowed('User', userId);
        } else {
          throw badRequest({
            accountId: [
              `you administer ${places.length} places where this user holds a role: name one with accountId (and vaId)`,
            ],
          });
        }
        const { row, key } = newKey(user.id, input.name ?? user.email, scope, now);
        await insertApiKey(trx, row);
        await recordEvent(trx, {
          at: now,
          actor: caller.actor,
          type: 'api-key.created',
          accountId: scope?.accountId ?? null,
          vaId: scope?.vaId ?? null,
          detail: { userId, keyId: row.id },
        });
        return { ...keyView(row), apiKey: key };
      });
    },

    /** The keys of a user that lie where the caller may act on the user (never the secrets). */
    async listKeys(userId: string, caller: UserCaller): Promise<ApiKeyView[]> {
      if (!(await findUser(db, userId))) throw notFoundOrNotAllowed('User', userId);
      const places = placesToActOnUser(caller, userId, await grantsOf(db, userId));
      if (places !== 'all' && places.length === 0) throw notFoundOrNotAllowed('User', userId);
      return (await listUserKeys(db, userId)).filter((row) => keyInside(keyScopeOf(row), places)).map(keyView);
    },

    /** Revokes a key where the caller may act on its user; revoking a revoked key changes nothing. */
    async revokeKey(keyId: string, caller: UserCaller): Promise<ApiKeyView> {
      const now = clock.now();
      return transactor.run(async (trx) => {
        const found = await findKey(trx, keyId);
        const userId = found?.user_id ?? '';
        const places = found ? placesToActOnUser(caller, userId, userId ? await grantsOf(trx, userId) : []) : [];
        if (!found || !keyInside(keyScopeOf(found), places)) throw notFoundOrNotAllowed('API key', keyId);
        if (await revokeKey(trx, keyId, now)) {
          const scope = keyScopeOf(found);
          await recordEvent(trx, {
            at: now,
            actor: caller.actor,
            type: 'api-key.revoked',
            accountId: scope?.accountId ?? null,
            vaId: scope?.vaId ?? null,
            detail: { keyId, userId: found.user_id },
          });
        }
        return keyView({ ...found, revoked_at: found.revoked_at ?? now });
      });
    },

    /**
     * Removes a user's role on a Smart Account (`vaId` absent) or on one VA, and revokes the
     * user's scoped keys that no longer carry any role. A user with no such role (or no such
     * user) is answered alike.
     */
    async removeRole(
      userId: string,
      input: { accountId: string; vaId?: string | undefined },
      caller: UserCaller,
    ): Promise<{ userId: string; accountId: string; vaId: string | null; role: Role; revokedKeys: number }> {
      const now = clock.now();
      const vaId = input.vaId ?? null;
      return transactor.run(async (trx) => {
        await checkPlace(trx, { accountId: input.accountId, vaId }, notFound);
        const user = await findUser(trx, userId);
        const role = user && (await deleteGrant(trx, userId, input.accountId, vaId));
        if (!user || !role) {
          throw new SmartlicError('NOT_FOUND', {
            message: `User '${userId}' holds no role on that place to remove, or does not exist.`,
            context: { id: userId },
          });
        }
        const remaining = await grantsOf(trx, userId);
        let revokedKeys = 0;
        for (const row of await listUserKeys(trx, userId)) {
          const scope = keyScopeOf(row);
          if (row.revoked_at !== null || scope === null || grantsWithin(remaining, scope).length > 0) continue;
          if (await revokeKey(trx, row.id, now)) revokedKeys++;
        }
        await recordEvent(trx, {
          at: now,
          actor: caller.actor,
          type: 'user.role-removed',
          accountId: input.accountId,
          vaId,
          detail: { userId, email: user.email, role, revokedKeys },
        });
        return { userId, accountId: input.accountId, vaId, role, revokedKeys };
      });
    },
  };
}

export type UserService = ReturnType<typeof createUserService>;

/** Whether `caller` may set the password of user `userId`, who holds `grants` (see `setPassword`). */
export function maySetPassword(caller: Caller, userId: string, grants: readonly Grant[]): boolean {
  if (caller.owner) return true;
  if (caller.userId === userId) return caller.scope === null;
  return grants.every((g) => effectiveRole(caller, g.accountId, g.vaId) === 'admin');
}

type KeyViewRow = Pick<
  ApiKeyRow,
  'id' | 'name' | 'created_at' | 'last_used_at' | 'revoked_at' | 'scope_account_id' | 'scope_va_id'
>;

function keyViewOf(row: KeyViewRow): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    createdAt: toIso(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : toIso(row.last_used_at),
    revokedAt: row.revoked_at === null ? null : toIso(row.revoked_at),
    scope: keyScopeOf(row),
  };
}
