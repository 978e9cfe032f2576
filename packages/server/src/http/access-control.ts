import { type Clock, SmartlicError } from '@smartlic/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { notFound } from '../errors.js';
import {
  type AccessSubject,
  anyVaRoleAllows,
  effectiveRole,
  type RouteAccess,
  roleAllows,
} from '../features/access/access-policy.js';
import { type ScopeTarget, scopeResolverFor } from '../features/access/scope-resolvers.js';
import { actorOfPrincipal } from '../features/api-keys/api-key-service.js';
import { recordEvent } from '../features/events/event-recorder.js';
import { grantsOf } from '../features/users/user-store.js';
import type { Database } from '../storage/schema.js';
import type { Transactor } from '../storage/transactor.js';

/** Body fields that name a target when no route parameter does (e.g. `POST /users {accountId, vaId}`). */
const BODY_FIELDS = ['vaId', 'accountId'] as const;

/**
 * Authorises every route of `scope` by its `config.access`: registering a route without
 * one throws (fail closed); at request time the target is found from the route parameters
 * (or the body) by the scope resolvers, and a principal whose roles do not allow the action
 * is answered `403 FORBIDDEN` naming what was refused, recorded as `access.denied`.
 */
export function requireAccess(
  scope: FastifyInstance,
  deps: { db: Kysely<Database>; transactor: Transactor; clock: Clock },
): void {
  scope.addHook('onRoute', (route) => {
    const access = (route.config as { access?: RouteAccess } | undefined)?.access;
    if (!access) {
      throw new Error(
        `Admin route ${String(route.method)} ${route.url} declares no config.access: add adminRoute(action, scope, doc) to its options.`,
      );
    }
  });
  scope.addHook('preHandler', async (request) => {
    const access = request.routeOptions.config.access;
    const principal = request.principal;
    if (!principal) throw new SmartlicError('UNAUTHENTICATED');
    if (!access) throw new SmartlicError('FORBIDDEN', { message: 'This route declares no access rule.' });
    if (principal.owner || access.scope === 'any') return;
    const refusal =
      (await refusalFor(deps.db, principal, access, request)) ??
      (await destinationRefusal(deps.db, principal, access, request));
    if (refusal === null) return;
    await deps.transactor.run((trx) =>
      recordEvent(trx, {
        at: deps.clock.now(),
        actor: actorOfPrincipal(principal),
        type: 'access.denied',
        accountId: refusal.accountId,
        vaId: refusal.vaId,
        detail: {
          method: request.method,
          route: request.routeOptions.url,
          action: access.action,
          message: refusal.message,
        },
      }),
    );
    throw new SmartlicError('FORBIDDEN', { message: refusal.message });
  });
}

interface Refusal {
  message: string;
  accountId: string | null;
  vaId: string | null;
}

async function refusalFor(
  db: Kysely<Database>,
  subject: AccessSubject,
  access: RouteAccess,
  request: FastifyRequest,
): Promise<Refusal | null> {
  const what = access.what ?? describeAction(access.action, request.routeOptions.url ?? request.url);
  if (access.scope === 'system') {
    return { message: `Only the server's owner key allows ${what}.`, accountId: null, vaId: null };
  }
  const target = await findTarget(db, request);
  if (target.kind === 'user') {
    if (target.userId !== '' && target.userId === subject.userId) return null;
    const theirs = target.userId === '' ? [] : await grantsOf(db, target.userId);
    // Admin over every place the user holds a role, so that nobody can mint a key with more rights than their own.
    const adminOverAll =
      theirs.length > 0 && theirs.every((g) => effectiveRole(subject, g.accountId, g.vaId) === 'admin');
    return adminOverAll
      ? null
      : {
          message: `Only the user themself or an admin of every place where they hold a role allows ${what}.`,
          accountId: null,
          vaId: null,
        };
  }
  return placeRefusal(db, subject, access, target, what);
}

/** Body fields that name a second place a request changes: the destination of a transfer. */
const DESTINATION_FIELDS = ['toVaId'] as const;

/**
 * A transfer changes its destination as much as its source: the same role is needed on the
 * Virtual Account a request names as its destination.
 */
async function destinationRefusal(
  db: Kysely<Database>,
  subject: AccessSubject,
  access: RouteAccess,
  request: FastifyRequest,
): Promise<Refusal | null> {
  if (access.scope !== 'va' && access.scope !== 'account') return null;
  const body = (request.body ?? {}) as Record<string, unknown>;
  const resolver = scopeResolverFor('vaId');
  for (const field of DESTINATION_FIELDS) {
    const value = body[field];
    if (typeof value !== 'string' || !resolver) continue;
    const target = await resolver.resolve(db, value);
    if (!target) throw notFound(resolver.what, value);
    if (target.kind !== 'place') continue;
    const what = access.what ?? describeAction(access.action, request.routeOptions.url ?? request.url);
    const refusal = await placeRefusal(db, subject, access, target, `${what} (as the destination)`);
    if (refusal) return refusal;
  }
  return null;
}

async function placeRefusal(
  db: Kysely<Database>,
  subject: AccessSubject,
  access: RouteAccess,
  target: Extract<ScopeTarget, { kind: 'place' }>,
  what: string,
): Promise<Refusal | null> {
  const role = effectiveRole(subject, target.accountId, target.vaId);
  if (role !== null && roleAllows(role, access.action)) return null;
  if (access.vaRolesSuffice && target.vaId === null && anyVaRoleAllows(subject, target.accountId, access.action)) {
    return null;
  }
  const where = await placeName(db, target.accountId, target.vaId);
  const message =
    role === null
      ? `You have no role on ${where}, which ${what} needs.`
      : `Your role ${role} on ${where} does not allow ${what}.`;
  return { message, accountId: target.accountId, vaId: target.vaId };
}

async function findTarget(
  db: Kysely<Database>,
  request: FastifyRequest,
): Promise<ScopeTarget & ({ kind: 'user' } | { kind: 'place' })> {
  const params = (request.params ?? {}) as Record<string, string>;
  const body = (request.body ?? {}) as Record<string, unknown>;
  const candidates: Array<[string, string]> = Object.entries(params);
  for (const field of BODY_FIELDS) {
    if (typeof body[field] === 'string') candidates.push([field, body[field] as string]);
  }
  for (const [name, value] of candidates) {
    const resolver = scopeResolverFor(name);
    if (!resolver) continue;
    const target = await resolver.resolve(db, value);
    if (!target) throw notFound(resolver.what, value);
    return target;
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
