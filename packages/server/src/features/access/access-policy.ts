import type { Role } from '../../storage/schema.js';

/** What a route does: reads, changes, or manages people and roles. */
export type AccessAction = 'read' | 'write' | 'admin';

/**
 * What a route concerns. `system`: only the owner key (creating Smart Accounts…);
 * `account`/`va`: the Smart Account or VA named by its parameters or body (found by the
 * scope resolvers); `user`: a user named by `:userId` or `:keyId` (the user themself, or an
 * admin of where they hold a role); `any`: any authenticated principal, the handler shows
 * only what the principal may see.
 */
export type AccessScope = 'system' | 'account' | 'va' | 'user' | 'any';

/** The `config.access` every admin route declares. */
export interface RouteAccess {
  action: AccessAction;
  scope: AccessScope;
  /** How a refusal names the action, e.g. "changing licenses"; derived from the route when absent. */
  what?: string;
  /**
   * For `account` scope: a role on one of the account's VAs suffices too (the handler then
   * shows only what the principal may see, e.g. the VAs of `GET /accounts/:id/virtual-accounts`).
   */
  vaRolesSuffice?: boolean;
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

/** Whether `subject` may do `action` in VA `vaId` of account `accountId` (the owner may do everything). */
export function mayActOnVa(subject: AccessSubject, action: AccessAction, accountId: string, vaId: string): boolean {
  if (subject.owner) return true;
  const role = effectiveRole(subject, accountId, vaId);
  return role !== null && roleAllows(role, action);
}
