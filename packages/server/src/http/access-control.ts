import { type Clock, SmartlicError } from '@smartlic/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { notFoundOrNotAllowed } from '../errors.js';
import {
  anyVaRoleAllows,
  type Caller,
  canSeePlace,
  effectiveRole,
  type Grant,
  keyInside,
  placesToActOnUser,
  type RouteAccess,
  roleAllows,
} from '../features/access/access-policy.js';
import { type PlaceLookup, type RouteTarget, targetMismatch } from '../features/access/route-targets.js';
import { actorOfPrincipal } from '../features/api-keys/api-key-service.js';
import { recordEvent } from '../features/events/event-recorder.js';
import { grantsOf } from '../features/users/user-store.js';
import type { Database } from '../storage/schema.js';
import type { Transactor } from '../storage/transactor.js';

/** Where an `access.denied` event is written: a place, or the system log (both null). */
interface LogPlace {
  accountId: string | null;
  vaId: string | null;
}

/**
 * A refusal. `forbidden`: the caller can see the target and is told precisely what its role
 * lacks (403). `hidden`: the caller holds no role there and gets the answer of an id that
 * does not exist (404), so that nobody can probe for other accounts' ids.
 */
type Refusal =
  | { kind: 'forbidden'; message: string; logAt: LogPlace[] }
  | { kind: 'hidden'; error: SmartlicError; logAt: LogPlace[] };

/**
 * Authorises every route of `scope` by its `config.access`: registering a route without
 * one, or whose target names a URL parameter the route lacks, throws (fail closed); at
 * request time the target is found by the lookups the route declares and a principal whose roles do not allow the action is
 * refused: `403 FORBIDDEN` naming what was refused when it holds a role on the target,
 * otherwise the same `404 NOT_FOUND` as for an id that does not exist. Each refusal is
 * recorded as `access.denied` where the caller belongs (the target when it holds a role
 * there, else the places where it holds roles, else the system log).
 */
export function requireAccess(
  scope: FastifyInstance,
  deps: { db: Kysely<Database>; transactor: Transactor; clock: Clock },
): void {
  scope.addHook('onRoute', (route) => {
    const access = (route.config as { access?: RouteAccess } | undefined)?.access;
    if (!access) {
      throw new Error(
        `Admin route ${String(route.method)} ${route.url} declares no config.access: add adminRoute(action, target, doc) to its options.`,
      );
    }
    const mismatch = targetMismatch(access.target, route.url);
    if (mismatch) throw new Error(`Admin route ${String(route.method)} ${route.url}: ${mismatch}.`);
  });
  scope.addHook('preHandler', async (request) => {
    const access = request.routeOptions.config.access;
    const principal = request.principal;
    if (!principal) throw new SmartlicError('UNAUTHENTICATED');
    if (!access) throw new SmartlicError('FORBIDDEN', { message: 'This route declares no access rule.' });
    if (principal.owner || access.target.scope === 'any') return;
    const refusal =
      (await refusalFor(deps.db, principal, access, request)) ??
      (await destinationRefusal(deps.db, principal, access, request));
    if (refusal === null) return;
    const message = refusal.kind === 'forbidden' ? refusal.message : refusal.error.message;
    await deps.transactor.run(async (trx) => {
      for (const place of refusal.logAt) {
        await recordEvent(trx, {
          at: deps.clock.now(),
          actor: actorOfPrincipal(principal),
          type: 'access.denied',
          accountId: place.accountId,
          vaId: place.vaId,
          detail: { method: request.method, route: request.routeOptions.url, action: access.action, message },
        });
      }
    });
    throw refusal.kind === 'forbidden' ? new SmartlicError('FORBIDDEN', { message }) : refusal.error;
  });
}

function whatOf(access: RouteAccess, request: FastifyRequest): string {
  return access.what ?? describeAction(access.action, request.routeOptions.url ?? request.url);
}

async function refusalFor(
  db: Kysely<Database>,
  caller: Caller,
  access: RouteAccess,
  request: FastifyRequest,
): Promise<Refusal | null> {
  const what = whatOf(access, request);
  const target = access.target;
  if (target.scope === 'system') {
    const message = `Only the server's owner key allows ${what}.`;
    return { kind: 'forbidden', message, logAt: [{ accountId: null, vaId: null }] };
  }
  if (target.scope === 'user') return userRefusal(db, caller, target.find, request);
  if (target.scope === 'any') return null;
  return placeRefusal(db, caller, access, await findPlace(db, target.find, request), what);
}

/**
 * A route about a user (their API keys): allowed to the user themself (within their key's
 * scope) and to an admin of a place where the user holds a role (within that place, see
 * `placesToActOnUser`). Anyone else is answered as if the user (or key) did not exist.
 */
async function userRefusal(
  db: Kysely<Database>,
  caller: Caller,
  lookup: Extract<RouteTarget, { scope: 'user' }>['find'],
  request: FastifyRequest,
): Promise<Refusal | null> {
  const id = fieldOf(request, lookup.from, lookup.name);
  if (id === undefined) throw new SmartlicError('BAD_REQUEST', { message: 'The request names no user.' });
  const target = await lookup.resolve(db, id);
  if (!target) throw notFoundOrNotAllowed(lookup.what, id);
  const grants = target.userId === '' ? [] : await grantsOf(db, target.userId);
  const places = placesToActOnUser(caller, target.userId, grants);
  const inside = places === 'all' || (places.length > 0 && (!target.key || keyInside(target.key.scope, places)));
  return inside ? null : { kind: 'hidden', error: notFoundOrNotAllowed(lookup.what, id), logAt: homeOf(caller) };
}

/** The string value of field `name` of the request's `from` part, if it has one. */
function fieldOf(request: FastifyRequest, from: PlaceLookup['from'], name: string): string | undefined {
  const source = (request[from] ?? {}) as Record<string, unknown>;
  const value = source[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * A transfer changes its destination as much as its source: the same role is needed on the
 * place the route declares as its destination (e.g. the body's `toVaId`).
 */
async function destinationRefusal(
  db: Kysely<Database>,
  caller: Caller,
  access: RouteAccess,
  request: FastifyRequest,
): Promise<Refusal | null> {
  const target = access.target;
  if ((target.scope !== 'va' && target.scope !== 'account') || !target.destination) return null;
  const lookup = target.destination;
  const value = fieldOf(request, lookup.from, lookup.name);
  if (value === undefined) return null;
  const found = await lookup.resolve(db, value);
  if (!found) throw notFoundOrNotAllowed(lookup.what, value);
  const destination = { ...found, what: lookup.what, id: value };
  return placeRefusal(db, caller, access, destination, `${whatOf(access, request)} (as the destination)`);
}

interface FoundPlace {
  accountId: string;
  vaId: string | null;
  /** How the place was named, for the refusal: e.g. "Virtual account" and its id. */
  what: string;
  id: string;
}

async function placeRefusal(
  db: Kysely<Database>,
  caller: Caller,
  access: RouteAccess,
  target: FoundPlace,
  what: string,
): Promise<Refusal | null> {
  const role = effectiveRole(caller, target.accountId, target.vaId);
  if (role !== null && roleAllows(role, access.action)) return null;
  if (
    vaRolesSuffice(access.target) &&
    target.vaId === null &&
    anyVaRoleAllows(caller, target.accountId, access.action)
  ) {
    return null;
  }
  if (!canSeePlace(caller, target.accountId, target.vaId)) {
    return { kind: 'hidden', error: notFoundOrNotAllowed(target.what, target.id), logAt: homeOf(caller) };
  }
  const where = await placeName(db, target.accountId, target.vaId);
  const message =
    role === null
      ? `You have no role on ${where}, which ${what} needs.`
      : `Your role ${role} on ${where} does not allow ${what}.`;
  return { kind: 'forbidden', message, logAt: [{ accountId: target.accountId, vaId: target.vaId }] };
}

/**
 * Where a caller belongs, for logging its refusals: each Smart Account where it holds a role
 * on the account, else each VA where it holds one; the system log when it holds none.
 */
export function homeOf(caller: { grants: readonly Grant[] }): LogPlace[] {
  const places: LogPlace[] = [];
  const accounts = new Set(caller.grants.filter((g) => g.vaId === null).map((g) => g.accountId));
  for (const accountId of accounts) places.push({ accountId, vaId: null });
  const seen = new Set<string>();
  for (const g of caller.grants) {
    if (g.vaId === null || accounts.has(g.accountId) || seen.has(g.vaId)) continue;
    seen.add(g.vaId);
    places.push({ accountId: g.accountId, vaId: g.vaId });
  }
  return places.length > 0 ? places : [{ accountId: null, vaId: null }];
}

function vaRolesSuffice(target: RouteTarget): boolean {
  return (target.scope === 'account' || target.scope === 'va') && target.vaRolesSuffice === true;
}

/** The place a route is about: found by the first of its declared lookups that the request carries. */
async function findPlace(
  db: Kysely<Database>,
  lookups: readonly PlaceLookup[],
  request: FastifyRequest,
): Promise<FoundPlace> {
  for (const lookup of lookups) {
    const id = fieldOf(request, lookup.from, lookup.name);
    if (id === undefined) continue;
    const found = await lookup.resolve(db, id);
    if (!found) throw notFoundOrNotAllowed(lookup.what, id);
    return { accountId: found.accountId, vaId: found.vaId, what: lookup.what, id };
  }
  throw new SmartlicError('BAD_REQUEST', {
    message: 'The request names no Smart Account or Virtual Account.',
    context: { fields: { accountId: ['is required'] } },
  });
}

async function placeName(db: Kysely<Database>, accountId: string, vaId: string | null): Promise<string> {
  if (vaId !== null) {
    const va = await db.selectFrom('virtual_accounts').select('name').where('id', '=', vaId).executeTakeFirst();
    return `Virtual Account '${va?.name ?? vaId}'`;
  }
  const account = await db.selectFrom('smart_accounts').select('name').where('id', '=', accountId).executeTakeFirst();
  return `Smart Account '${account?.name ?? accountId}'`;
}

const VERBS = { read: 'reading', write: 'changing', admin: 'managing' } as const;

/** "changing licenses" out of `write` and `/api/v1/virtual-accounts/:vaId/licenses`. */
export function describeAction(action: RouteAccess['action'], url: string): string {
  const nouns = url.split('/').filter((s) => s !== '' && !s.startsWith(':') && s !== 'api' && s !== 'v1');
  const actions = new Set(['revoke', 'transfer', 'allow', 'confirm', 'return', 'convert', 'sync']);
  const last = nouns.at(-1) ?? 'this';
  const noun = actions.has(last) && nouns.length > 1 ? nouns.at(-2)! : last;
  return `${VERBS[action]} ${noun.replace(/-/g, ' ')}`;
}
