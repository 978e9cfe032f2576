import { describe, expect, it } from 'vitest';
import { describeAction } from '../../http/access-control.js';
import { type AccessSubject, effectiveRole, roleAllows, visibleAccountIds } from './access-policy.js';

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
});
