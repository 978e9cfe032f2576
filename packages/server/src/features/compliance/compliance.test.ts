import { HOUR, MINUTE } from '@smartlic/protocol';
import { describe, expect, it } from 'vitest';
import {
  alertsOf,
  entitlementStatus,
  instanceStatus,
  overallStatus,
  retryIntervalFor,
  surplusOf,
} from './compliance.js';

describe('compliance', () => {
  it('computes surplus and the Insufficient Licenses alert', () => {
    expect(surplusOf({ quantity: 10, inUse: 8 })).toBe(2);
    expect(surplusOf(undefined)).toBe(0);
    expect(alertsOf({ quantity: 10, inUse: 10 })).toEqual([]);
    expect(alertsOf({ quantity: 10, inUse: 12 })).toEqual(['Insufficient Licenses']);
  });

  it('judges an entitlement by the VA balance, and a count of zero as using nothing', () => {
    expect(entitlementStatus(4, { quantity: 10, inUse: 10 })).toBe('InCompliance');
    expect(entitlementStatus(4, { quantity: 10, inUse: 12 })).toBe('OutOfCompliance');
    expect(entitlementStatus(1, undefined)).toBe('InCompliance'); // balance 0 − 0 is not a shortage…
    expect(entitlementStatus(1, { quantity: 0, inUse: 1 })).toBe('OutOfCompliance'); // …but using an unlicensed tag is
    expect(entitlementStatus(0, { quantity: 0, inUse: 5 })).toBe('InCompliance');
  });

  it('is out of compliance overall when any entitlement is', () => {
    expect(overallStatus([])).toBe('InCompliance');
    expect(overallStatus(['InCompliance', 'OutOfCompliance'])).toBe('OutOfCompliance');
  });

  it('gives instances NoUsage when they use nothing', () => {
    const balances = new Map([
      ['A', { quantity: 1, inUse: 2 }],
      ['B', { quantity: 5, inUse: 1 }],
    ]);
    expect(instanceStatus([], balances)).toBe('NoUsage');
    expect(instanceStatus([{ tag: 'A', count: 0 }], balances)).toBe('NoUsage');
    expect(instanceStatus([{ tag: 'B', count: 1 }], balances)).toBe('InCompliance');
    expect(
      instanceStatus(
        [
          { tag: 'A', count: 1 },
          { tag: 'B', count: 1 },
        ],
        balances,
      ),
    ).toBe('OutOfCompliance');
  });

  it('retries after 23 h when in compliance and 15 min when not', () => {
    expect(retryIntervalFor('InCompliance')).toBe(23 * HOUR);
    expect(retryIntervalFor('OutOfCompliance')).toBe(15 * MINUTE);
  });
});
