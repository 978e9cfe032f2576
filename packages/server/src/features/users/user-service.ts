import { randomUUID } from 'node:crypto';
import type { Clock } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import { notFound } from '../../errors.js';
import type { ApiKeyRow, Database, Role, UserRow } from '../../storage/schema.js';
import type { Transactor } from '../../storage/transactor.js';
import { toIso } from '../../util/time.js';
import { badRequest } from '../../validation.js';
import { findAccount, findVirtualAccount } from '../accounts/account-store.js';
import { generateApiKey, hashApiKey } from '../api-keys/api-key.js';
import { insertApiKey } from '../api-keys/api-key-store.js';
import { type Actor, recordEvent } from '../events/event-recorder.js';
import {
  findUser,
  findUserByEmail,
  insertUser,
  listAccountUsers,
  listUserKeys,
  revokeKey,
  upsertGrant,
} from './user-store.js';

export interface UserServiceDeps {
  db: Kysely<Database>;
  transactor: Transactor;
  clock: Clock;
}

export interface ApiKeyView {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** Users, their roles and their API keys (SPEC §2, §9). */
export function createUserService({ db, transactor, clock }: UserServiceDeps) {
  const newKey = (userId: string, name: string, now: number): { row: ApiKeyRow; key: string } => {
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
    };
    return { row, key };
  };

  return {
    /**
     * Creates the user of `email` if new, grants `role` on the account (or on `vaId`), and
     * issues a new API key, returned once.
     */
    async createUser(
      input: { email: string; accountId: string; role: Role; vaId?: string | undefined },
      actor: Actor,
    ): Promise<{ id: string; email: string; created: boolean; apiKey: string; keyId: string }> {
      const now = clock.now();
      return transactor.run(async (trx) => {
        if (!(await findAccount(trx, input.accountId))) throw notFound('Smart account', input.accountId);
        if (input.vaId !== undefined) {
          const va = await findVirtualAccount(trx, input.vaId);
          if (!va) throw notFound('Virtual account', input.vaId);
          if (va.account_id !== input.accountId) {
            throw badRequest({ vaId: ['is not a virtual account of the given smart account'] });
          }
        }
        let user: UserRow | undefined = await findUserByEmail(trx, input.email);
        const created = !user;
        if (!user) {
          user = { id: randomUUID(), email: input.email, created_at: now };
          await insertUser(trx, user);
        }
        await upsertGrant(trx, {
          user_id: user.id,
          account_id: input.accountId,
          va_id: input.vaId ?? '',
          role: input.role,
          granted_at: now,
        });
        const { row, key } = newKey(user.id, input.email, now);
        await insertApiKey(trx, row);
        await recordEvent(trx, {
          at: now,
          actor,
          type: created ? 'user.created' : 'user.role-granted',
          accountId: input.accountId,
          vaId: input.vaId ?? null,
          detail: { userId: user.id, email: user.email, role: input.role },
        });
        return { id: user.id, email: user.email, created, apiKey: key, keyId: row.id };
      });
    },

    async listAccountUsers(accountId: string) {
      return (await listAccountUsers(db, accountId)).map(({ user, grants }) => ({
        id: user.id,
        email: user.email,
        createdAt: toIso(user.created_at),
        roles: grants.map((g) => ({ accountId: g.account_id, vaId: g.va_id === '' ? null : g.va_id, role: g.role })),
      }));
    },

    /** A new API key for a user; the key is returned once. */
    async createKey(userId: string, name: string | undefined, actor: Actor): Promise<ApiKeyView & { apiKey: string }> {
      const now = clock.now();
      return transactor.run(async (trx) => {
        const user = await findUser(trx, userId);
        if (!user) throw notFound('User', userId);
        const { row, key } = newKey(user.id, name ?? user.email, now);
        await insertApiKey(trx, row);
        await recordEvent(trx, { at: now, actor, type: 'api-key.created', detail: { userId, keyId: row.id } });
        return { ...keyView(row), apiKey: key };
      });
    },

    async listKeys(userId: string): Promise<ApiKeyView[]> {
      if (!(await findUser(db, userId))) throw notFound('User', userId);
      return (await listUserKeys(db, userId)).map(keyView);
    },

    /** Revokes a key; revoking a revoked key changes nothing. */
    async revokeKey(keyId: string, actor: Actor): Promise<ApiKeyView> {
      const now = clock.now();
      return transactor.run(async (trx) => {
        if (await revokeKey(trx, keyId, now)) {
          await recordEvent(trx, { at: now, actor, type: 'api-key.revoked', detail: { keyId } });
        }
        const row = await trx.selectFrom('api_keys').selectAll().where('id', '=', keyId).executeTakeFirst();
        if (!row) throw notFound('API key', keyId);
        return keyView(row);
      });
    },
  };
}

export type UserService = ReturnType<typeof createUserService>;

function keyView(row: Pick<ApiKeyRow, 'id' | 'name' | 'created_at' | 'last_used_at' | 'revoked_at'>): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    createdAt: toIso(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : toIso(row.last_used_at),
    revokedAt: row.revoked_at === null ? null : toIso(row.revoked_at),
  };
}
