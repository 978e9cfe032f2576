import type { Role } from '../../storage/schema.js';
import type { RouteTarget } from './route-targets.js';

/** What a route does: reads, changes, or manages people and roles. */
export type AccessAction = 'read' | 'write' | 'admin';

/** What a route concerns: see {@link RouteTarget}. */
export type AccessScope = RouteTarget['scope'];

/** The `config.access` every admin route declares (through `adminRoute`). */
export interface RouteAccess {
  action: AccessAction;
  /** What the route is about, and how the request names it. */
  target: RouteTarget;
  /** How a refusal names the action, e.g. "changing licenses"; derived from the route when absent. */
  what?: string;
}

/** One role of a user; `vaId` null for a role on the whole Smart Account. */
export interface Grant {
  accountId: string;
  vaId: string | null;
  role: Role;
}

/** Whom a request acts for, as far as access is concerned. */
export interface AccessSubject {
  owner: boolean;
  userId: string | null;
  grants: readonly Grant[];
}

const ALLOWED: Readonly<Record<Role, readonly AccessAction[]>> = {
  admin: ['read', 'write', 'admin'],
  user: ['read', 'write'],
  viewer: ['read'],
};

const RANK: Readonly<Record<Role, number>> = { viewer: 1, user: 2, admin: 3 };

/** Whether `role` allows `action`. */
export function roleAllows(role: Role, action: AccessAction): boolean {
  return ALLOWED[role].includes(action);
}

/**
 * The strongest role of `subject` in a Smart Account or (with `vaId`) in one of its VAs: a
 * role on the account applies to all its VAs; a role on a VA only to that VA.
 */
export function effectiveRole(subject: AccessSubject, accountId: string, vaId: string | null): Role | null {
  let best: Role | null = null;
  for (const grant of subject.grants) {
    if (grant.accountId !== accountId) continue;
    if (grant.vaId !== null && grant.vaId !== vaId) continue;
    if (best === null || RANK[grant.role] > RANK[best]) best = grant.role;
  }
  return best;
}

/** Whether some role of `subject` on a VA of `accountId` allows `action`. */
export function anyVaRoleAllows(subject: AccessSubject, accountId: string, action: AccessAction): boolean {
  return subject.grants.some((g) => g.accountId === accountId && g.vaId !== null && roleAllows(g.role, action));
}

/** Account ids where `subject` holds any role (null: all, for the owner). */
export function visibleAccountIds(subject: AccessSubject): Set<string> | null {
  if (subject.owner) return null;
  return new Set(subject.grants.map((g) => g.accountId));
}

/** Whether `subject` may see VA `vaId` of account `accountId` (owner, account role, or a role on the VA). */
export function canSeeVa(subject: AccessSubject, accountId: string, vaId: string): boolean {
  return subject.owner || effectiveRole(subject, accountId, vaId) !== null;
}

/**
 * The place an API key is limited to (migration 0010): a Smart Account, or one of its VAs.
 * A key with no scope carries every grant of its user; a scoped key only those inside the
 * scope (ADR 0006).
 */
export interface KeyScope {
  accountId: string;
  vaId: string | null;
}

/** Whether place (`accountId`, `vaId`) lies inside `scope` (null: unscoped, everything). */
export function placeWithin(place: KeyScope, scope: KeyScope | null): boolean {
  if (scope === null) return true;
  return place.accountId === scope.accountId && (scope.vaId === null || place.vaId === scope.vaId);
}

/**
 * The grants a key of `scope` carries: for a Smart Account, the user's grants in it; for a
 * VA, the user's grants on that VA, and their Smart Account roles applied to that VA only.
 */
export function grantsWithin(grants: readonly Grant[], scope: KeyScope | null): Grant[] {
  if (scope === null) return [...grants];
  const inside: Grant[] = [];
  for (const g of grants) {
    if (g.accountId !== scope.accountId) continue;
    if (scope.vaId === null) inside.push(g);
    else if (g.vaId === null || g.vaId === scope.vaId) inside.push({ ...g, vaId: scope.vaId });
  }
  return inside;
}

/**
 * The places where `admin` may act on a user holding `userGrants`: each Smart Account the
 * admin administers where the user holds any role, and otherwise each VA the admin
 * administers where the user holds a role (through the VA or its account). Empty when the
 * admin administers no place of the user's.
 */
export function placesAdministeredOver(admin: AccessSubject, userGrants: readonly Grant[]): KeyScope[] {
  const places: KeyScope[] = [];
  const user: AccessSubject = { owner: false, userId: null, grants: userGrants };
  for (const accountId of new Set(userGrants.map((g) => g.accountId))) {
    if (effectiveRole(admin, accountId, null) === 'admin') {
      places.push({ accountId, vaId: null });
      continue;
    }
    const vaIds = new Set(
      admin.grants
        .filter((g) => g.accountId === accountId && g.vaId !== null && g.role === 'admin')
        .map((g) => g.vaId as string),
    );
    for (const vaId of vaIds) {
      if (effectiveRole(user, accountId, vaId) !== null) places.push({ accountId, vaId });
    }
  }
  return places;
}

/** Whether `subject` can see place (`accountId`, `vaId`): a role on it, or for an account any role in it. */
export function canSeePlace(subject: AccessSubject, accountId: string, vaId: string | null): boolean {
  if (subject.owner || effectiveRole(subject, accountId, vaId) !== null) return true;
  return vaId === null && subject.grants.some((g) => g.accountId === accountId);
}

/** An authenticated caller: whom it acts for, and the scope of the key it used. */
export interface Caller extends AccessSubject {
  scope: KeyScope | null;
}

/**
 * Where `caller` may act on user `userId` (issue, list, revoke their keys): `'all'` for the
 * owner and for the user themself with an unscoped key; the key's scope for the user
 * themself with a scoped key; otherwise the places the caller administers where the user
 * holds a role ({@link placesAdministeredOver}), empty when there are none.
 */
export function placesToActOnUser(caller: Caller, userId: string, userGrants: readonly Grant[]): KeyScope[] | 'all' {
  if (caller.owner) return 'all';
  if (userId !== '' && caller.userId === userId) return caller.scope === null ? 'all' : [caller.scope];
  return placesAdministeredOver(caller, userGrants);
}

/** Whether a key of `keyScope` lies inside one of `places`; an unscoped key only inside `'all'`. */
export function keyInside(keyScope: KeyScope | null, places: KeyScope[] | 'all'): boolean {
  if (places === 'all') return true;
  return keyScope !== null && places.some((p) => placeWithin(keyScope, p));
}

/** Whether `subject` may do `action` in VA `vaId` of account `accountId` (the owner may do everything). */
export function mayActOnVa(subject: AccessSubject, action: AccessAction, accountId: string, vaId: string): boolean {
  if (subject.owner) return true;
  const role = effectiveRole(subject, accountId, vaId);
  return role !== null && roleAllows(role, action);
}
