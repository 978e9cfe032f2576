import type { Principal, Role } from './api.js';

const RANK: Readonly<Record<Role, number>> = { viewer: 1, user: 2, admin: 3 };

/** What a principal may do in a place: read, write (user and admin), admin (people, webhooks). */
export type Action = 'read' | 'write' | 'admin';

/** The strongest role in a Smart Account or one of its VAs, as the server's access policy counts it. */
export function roleIn(principal: Principal, accountId: string, vaId: string | null): Role | null {
  let best: Role | null = null;
  for (const grant of principal.grants) {
    if (grant.accountId !== accountId) continue;
    if (grant.vaId !== null && grant.vaId !== vaId) continue;
    if (best === null || RANK[grant.role] > RANK[best]) best = grant.role;
  }
  return best;
}

/** Whether the portal offers `action` in the place (the API refuses anyway when it may not). */
export function may(principal: Principal, action: Action, accountId: string, vaId: string | null): boolean {
  if (principal.kind === 'owner') return true;
  const role = roleIn(principal, accountId, vaId);
  if (role === null) return false;
  if (action === 'read') return true;
  if (action === 'write') return role !== 'viewer';
  return role === 'admin';
}
