import type { Kysely } from 'kysely';
import type { Database } from '../../storage/schema.js';

/** A place access is checked on: a Smart Account, or (vaId set) one of its Virtual Accounts. */
export interface Place {
  accountId: string;
  vaId: string | null;
}

/** A place from a row with `account_id` and optional `va_id`. */
export function place(accountId: string, vaId: string | null = null): Place {
  return { accountId, vaId };
}

/** Where a request names its target: a URL parameter, a body field or a query field. */
export type LookupSource = 'params' | 'body' | 'query';

/**
 * How a route finds one target from one field of the request, e.g. the VA of `:instanceId`.
 * `resolve` answers `undefined` when the id names nothing, which is answered `NOT_FOUND`
 * naming `what` ("Product instance").
 */
export interface Lookup<T> {
  from: LookupSource;
  name: string;
  what: string;
  resolve: (db: Kysely<Database>, id: string) => Promise<T | undefined>;
}

export type PlaceLookup = Lookup<Place>;

/** A user named by a route parameter, and for `:keyId` the key's scope (null: unscoped). */
export interface UserTarget {
  userId: string;
  key?: { scope: { accountId: string; vaId: string | null } | null };
}

export type UserLookup = Lookup<UserTarget>;

/**
 * What a route is about, declared on the route itself (no shared registry):
 * - `system`: only the owner key; `any`: any authenticated principal (the handler shows
 *   only what the principal may see);
 * - `account`/`va`: the place found by the first of `find` that the request carries
 *   (`NOT_FOUND` if it names nothing); `destination` is a second place the request changes
 *   (a transfer's target VA) and needs the same role; with `vaRolesSuffice`, a role on one
 *   of the account's VAs suffices for an account;
 * - `user`: the user `find` names (the user themself, or an admin of where they hold a role).
 */
export type RouteTarget =
  | { scope: 'system' }
  | { scope: 'any' }
  | { scope: 'account' | 'va'; find: readonly PlaceLookup[]; destination?: PlaceLookup; vaRolesSuffice?: boolean }
  | { scope: 'user'; find: UserLookup };

/** Options of a place target. */
export interface PlaceOptions {
  destination?: PlaceLookup;
  vaRolesSuffice?: boolean;
}

function placeTarget(
  scope: 'account' | 'va',
  find: PlaceLookup | readonly PlaceLookup[],
  options: PlaceOptions,
): RouteTarget {
  const lookups = Array.isArray(find) ? (find as readonly PlaceLookup[]) : [find as PlaceLookup];
  if (lookups.length === 0) throw new Error(`A ${scope} route target needs at least one lookup.`);
  return { scope, find: lookups, ...options };
}

/**
 * Route targets, for `adminRoute(action, target, doc)`, e.g.
 * `adminRoute('write', target.va(byInstance('instanceId')), doc)`.
 */
export const target = {
  system: { scope: 'system' } as RouteTarget,
  any: { scope: 'any' } as RouteTarget,
  /** A route about a Smart Account (found by the first lookup the request carries). */
  account: (find: PlaceLookup | readonly PlaceLookup[], options: PlaceOptions = {}) =>
    placeTarget('account', find, options),
  /** A route about a Virtual Account (found by the first lookup the request carries). */
  va: (find: PlaceLookup | readonly PlaceLookup[], options: PlaceOptions = {}) => placeTarget('va', find, options),
  /** A route about a user (their API keys). */
  user: (find: UserLookup): RouteTarget => ({ scope: 'user', find }),
};

/** A lookup of a place by `name` in `from`, e.g. `placeLookup('webhookId', 'Webhook', resolve)`. */
export function placeLookup(
  name: string,
  what: string,
  resolve: PlaceLookup['resolve'],
  from: LookupSource = 'params',
): PlaceLookup {
  return { from, name, what, resolve };
}

/** The Smart Account of id `name` (default `:accountId`). */
export function byAccount(name = 'accountId', from: LookupSource = 'params'): PlaceLookup {
  return placeLookup(
    name,
    'Smart account',
    async (db, id) => {
      const row = await db.selectFrom('smart_accounts').select('id').where('id', '=', id).executeTakeFirst();
      return row && place(row.id);
    },
    from,
  );
}

/** The Virtual Account of id `name` (default `:vaId`). */
export function byVa(name = 'vaId', from: LookupSource = 'params'): PlaceLookup {
  return placeLookup(
    name,
    'Virtual account',
    async (db, id) => {
      const row = await db
        .selectFrom('virtual_accounts')
        .select(['id', 'account_id'])
        .where('id', '=', id)
        .executeTakeFirst();
      return row && place(row.account_id, row.id);
    },
    from,
  );
}

/** The VA of the registration token `:tokenId`. */
export function byToken(name = 'tokenId'): PlaceLookup {
  return placeLookup(name, 'Token', async (db, id) => {
    const row = await db
      .selectFrom('tokens')
      .innerJoin('virtual_accounts', 'virtual_accounts.id', 'tokens.va_id')
      .select(['tokens.va_id', 'virtual_accounts.account_id'])
      .where('tokens.id', '=', id)
      .executeTakeFirst();
    return row && place(row.account_id, row.va_id);
  });
}

/** The VA of the product instance `:instanceId`. */
export function byInstance(name = 'instanceId'): PlaceLookup {
  return placeLookup(name, 'Product instance', async (db, id) => {
    const row = await db
      .selectFrom('instances')
      .innerJoin('virtual_accounts', 'virtual_accounts.id', 'instances.va_id')
      .select(['instances.va_id', 'virtual_accounts.account_id'])
      .where('instances.id', '=', id)
      .executeTakeFirst();
    return row && place(row.account_id, row.va_id);
  });
}

/** The user `:userId`. */
export function byUser(name = 'userId'): UserLookup {
  return {
    from: 'params',
    name,
    what: 'User',
    resolve: async (db, id) => {
      const row = await db.selectFrom('users').select('id').where('id', '=', id).executeTakeFirst();
      return row && { userId: row.id };
    },
  };
}

/** The user of the API key `:keyId`, and the key's scope. */
export function byApiKey(name = 'keyId'): UserLookup {
  return {
    from: 'params',
    name,
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
  };
}

/** The URL parameters a route declares (`:name` segments). */
export function urlParams(url: string): string[] {
  return [...url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string);
}

/**
 * Why a target cannot work on a route of `url`: a lookup names a URL parameter the URL lacks
 * (it would never find the target); `undefined` when it is sound.
 */
export function targetMismatch(t: RouteTarget, url: string): string | undefined {
  const params = new Set(urlParams(url));
  const lookups: Lookup<unknown>[] =
    t.scope === 'user'
      ? [t.find]
      : t.scope === 'account' || t.scope === 'va'
        ? [...t.find, ...(t.destination ? [t.destination] : [])]
        : [];
  for (const lookup of lookups) {
    if (lookup.from === 'params' && !params.has(lookup.name)) {
      return `its access target names the parameter :${lookup.name}, which the URL lacks`;
    }
  }
  return undefined;
}

/** The JSON form of a target's lookups, for the OpenAPI document: e.g. `["params.vaId"]`. */
export function describeLookups(t: RouteTarget): { from?: string[]; destination?: string } {
  if (t.scope === 'user') return { from: [`${t.find.from}.${t.find.name}`] };
  if (t.scope === 'system' || t.scope === 'any') return {};
  return {
    from: t.find.map((l) => `${l.from}.${l.name}`),
    ...(t.destination ? { destination: `${t.destination.from}.${t.destination.name}` } : {}),
  };
}
