import type { Kysely } from 'kysely';
import type { Database } from '../../storage/schema.js';

/** Where a request's target lives: a Smart Account, optionally one of its VAs; or a user. */
export type ScopeTarget = { kind: 'place'; accountId: string; vaId: string | null } | { kind: 'user'; userId: string };

/**
 * Finds the target of a route parameter (or body field) value; `undefined` when it names
 * nothing, which is answered `NOT_FOUND`.
 */
export type ScopeResolver = (db: Kysely<Database>, id: string) => Promise<ScopeTarget | undefined>;

interface Registered {
  resolve: ScopeResolver;
  /** Names the thing in NOT_FOUND, e.g. "Product instance". */
  what: string;
}

const resolvers = new Map<string, Registered>();

/**
 * Teaches access control what place a route parameter (or body field) of that name points
 * at, e.g. `registerScopeResolver('instanceId', 'Product instance', async (db, id) => …)`.
 * Every admin route whose access scope is `account` or `va` needs one of its parameters
 * (or, failing that, its body's or query's `vaId`/`accountId`) registered here; routes of
 * scope `user` are resolved by {@link USER_RESOLVERS}.
 */
export function registerScopeResolver(param: string, what: string, resolve: ScopeResolver): void {
  resolvers.set(param, { resolve, what });
}

/** The resolver of a parameter name, if any. */
export function scopeResolverFor(param: string): Registered | undefined {
  return resolvers.get(param);
}

/** A place target from a row with `account_id` and optional `va_id`. */
export function place(accountId: string, vaId: string | null = null): ScopeTarget {
  return { kind: 'place', accountId, vaId };
}

registerScopeResolver('accountId', 'Smart account', async (db, id) => {
  const row = await db.selectFrom('smart_accounts').select('id').where('id', '=', id).executeTakeFirst();
  return row && place(row.id);
});

registerScopeResolver('vaId', 'Virtual account', async (db, id) => {
  const row = await db
    .selectFrom('virtual_accounts')
    .select(['id', 'account_id'])
    .where('id', '=', id)
    .executeTakeFirst();
  return row && place(row.account_id, row.id);
});

registerScopeResolver('tokenId', 'Token', async (db, id) => {
  const row = await db
    .selectFrom('tokens')
    .innerJoin('virtual_accounts', 'virtual_accounts.id', 'tokens.va_id')
    .select(['tokens.va_id', 'virtual_accounts.account_id'])
    .where('tokens.id', '=', id)
    .executeTakeFirst();
  return row && place(row.account_id, row.va_id);
});

registerScopeResolver('instanceId', 'Product instance', async (db, id) => {
  const row = await db
    .selectFrom('instances')
    .innerJoin('virtual_accounts', 'virtual_accounts.id', 'instances.va_id')
    .select(['instances.va_id', 'virtual_accounts.account_id'])
    .where('instances.id', '=', id)
    .executeTakeFirst();
  return row && place(row.account_id, row.va_id);
});

/** A user named by a route parameter, and for `:keyId` the key's scope (null: unscoped). */
export interface UserTarget {
  userId: string;
  key?: { scope: { accountId: string; vaId: string | null } | null };
}

/**
 * Finders of the user a `user`-scope route is about, by parameter name. Kept apart from the
 * place resolvers, so that a route about a place (e.g. removing a role, `:userId` with the
 * place in its query) is authorised by the place.
 */
export const USER_RESOLVERS: Readonly<
  Record<string, { what: string; resolve: (db: Kysely<Database>, id: string) => Promise<UserTarget | undefined> }>
> = {
  userId: {
    what: 'User',
    resolve: async (db, id) => {
      const row = await db.selectFrom('users').select('id').where('id', '=', id).executeTakeFirst();
      return row && { userId: row.id };
    },
  },
  keyId: {
    what: 'API key',
    resolve: async (db, id) => {
      const row = await db
        .selectFrom('api_keys')
        .select(['user_id', 'scope_account_id', 'scope_va_id'])
        .where('id', '=', id)
        .executeTakeFirst();
      if (!row) return undefined;
      const scope = row.scope_account_id ? { accountId: row.scope_account_id, vaId: row.scope_va_id ?? null } : null;
      // Keys of no user (the owner key) are the owner's business only.
      return { userId: row.user_id ?? '', key: { scope } };
    },
  },
};
