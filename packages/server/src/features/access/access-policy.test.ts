import { describe, expect, it } from 'vitest';
import { describeAction, homeOf } from '../../http/access-control.js';
import {
  type AccessSubject,
  canSeePlace,
  effectiveRole,
  grantsWithin,
  keyInside,
  placesAdministeredOver,
  placesToActOnUser,
  roleAllows,
  visibleAccountIds,
} from './access-policy.js';

describe('access policy', () => {
  const subject: AccessSubject = {
    owner: false,
    userId: 'u',
    grants: [
      { accountId: 'A', vaId: null, role: 'viewer' },
      { accountId: 'A', vaId: 'lab', role: 'admin' },
      { accountId: 'B', vaId: 'shop', role: 'user' },
    ],
  };

  it('takes the strongest role: an account role covers its VAs, a VA role only that VA', () => {
    expect(effectiveRole(subject, 'A', null)).toBe('viewer');
    expect(effectiveRole(subject, 'A', 'lab')).toBe('admin');
    expect(effectiveRole(subject, 'A', 'other')).toBe('viewer');
    expect(effectiveRole(subject, 'B', null)).toBeNull();
    expect(effectiveRole(subject, 'B', 'shop')).toBe('user');
    expect(effectiveRole(subject, 'C', null)).toBeNull();
  });

  it('lets admin do everything, user read and write, viewer read', () => {
    expect(['read', 'write', 'admin'].map((a) => roleAllows('admin', a as 'read'))).toEqual([true, true, true]);
    expect(['read', 'write', 'admin'].map((a) => roleAllows('user', a as 'read'))).toEqual([true, true, false]);
    expect(['read', 'write', 'admin'].map((a) => roleAllows('viewer', a as 'read'))).toEqual([true, false, false]);
  });

  it('shows a user the accounts where they hold any role, and the owner all', () => {
    expect(visibleAccountIds(subject)).toEqual(new Set(['A', 'B']));
    expect(visibleAccountIds({ owner: true, userId: null, grants: [] })).toBeNull();
  });

  it('names refused actions after the route', () => {
    expect(describeAction('write', '/api/v1/virtual-accounts/:vaId/licenses')).toBe('changing licenses');
    expect(describeAction('write', '/api/v1/tokens/:tokenId/revoke')).toBe('changing tokens');
    expect(describeAction('read', '/api/v1/accounts/:accountId/virtual-accounts')).toBe('reading virtual accounts');
  });

  it('limits a scoped key to the grants inside its scope; an account role applies to a scoped VA only', () => {
    expect(grantsWithin(subject.grants, null)).toEqual(subject.grants);
    expect(grantsWithin(subject.grants, { accountId: 'A', vaId: null })).toEqual(subject.grants.slice(0, 2));
    expect(grantsWithin(subject.grants, { accountId: 'A', vaId: 'shop' })).toEqual([
      { accountId: 'A', vaId: 'shop', role: 'viewer' },
    ]);
    expect(grantsWithin(subject.grants, { accountId: 'A', vaId: 'lab' })).toEqual([
      { accountId: 'A', vaId: 'lab', role: 'viewer' },
      { accountId: 'A', vaId: 'lab', role: 'admin' },
    ]);
    expect(grantsWithin(subject.grants, { accountId: 'C', vaId: null })).toEqual([]);
  });

  it('lets an admin act on a user only in the places it administers where the user holds a role', () => {
    const accountAdmin: AccessSubject = {
      owner: false,
      userId: 'x',
      grants: [{ accountId: 'A', vaId: null, role: 'admin' }],
    };
    const labAdmin: AccessSubject = {
      owner: false,
      userId: 'y',
      grants: [{ accountId: 'A', vaId: 'lab', role: 'admin' }],
    };
    const user = [
      { accountId: 'A', vaId: null, role: 'viewer' as const },
      { accountId: 'B', vaId: null, role: 'admin' as const },
    ];
    expect(placesAdministeredOver(accountAdmin, user)).toEqual([{ accountId: 'A', vaId: null }]);
    expect(placesAdministeredOver(labAdmin, user)).toEqual([{ accountId: 'A', vaId: 'lab' }]);
    expect(placesAdministeredOver(labAdmin, [{ accountId: 'A', vaId: 'shop', role: 'admin' }])).toEqual([]);
    expect(
      placesAdministeredOver({ ...subject, grants: [{ accountId: 'A', vaId: null, role: 'user' }] }, user),
    ).toEqual([]);
    expect(placesToActOnUser({ owner: true, userId: null, grants: [], scope: null }, 'u2', user)).toBe('all');
    expect(placesToActOnUser({ ...labAdmin, scope: null }, 'y', [])).toBe('all');
    const scoped = { accountId: 'B', vaId: null };
    expect(placesToActOnUser({ ...labAdmin, scope: scoped }, 'y', [])).toEqual([scoped]);
    expect(keyInside(null, [{ accountId: 'A', vaId: null }])).toBe(false);
    expect(keyInside({ accountId: 'A', vaId: 'lab' }, [{ accountId: 'A', vaId: null }])).toBe(true);
    expect(keyInside({ accountId: 'A', vaId: null }, [{ accountId: 'A', vaId: 'lab' }])).toBe(false);
    expect(keyInside(null, 'all')).toBe(true);
  });

  it('says who can see a place, and logs refusals where the caller belongs', () => {
    expect(canSeePlace(subject, 'A', 'other')).toBe(true);
    expect(canSeePlace(subject, 'B', null)).toBe(true);
    expect(canSeePlace(subject, 'B', 'office')).toBe(false);
    expect(canSeePlace(subject, 'C', null)).toBe(false);
    expect(homeOf(subject)).toEqual([
      { accountId: 'A', vaId: null },
      { accountId: 'B', vaId: 'shop' },
    ]);
    expect(homeOf({ grants: [] })).toEqual([{ accountId: null, vaId: null }]);
  });
});
