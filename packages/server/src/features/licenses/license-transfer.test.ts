import { describe, expect, it } from 'vitest';
import { allocate } from '../compliance/allocation.js';
import type { CoveredBalance } from '../compliance/covered-balances.js';
import { transferable } from './license-transfer.js';

const parents = new Map([
  ['a', 'p'],
  ['b', 'p'],
  ['p', 'root'],
]);

function balancesOf(quantity: Record<string, number>, inUse: Record<string, number>): Map<string, CoveredBalance> {
  const allocation = allocate({
    quantity: new Map(Object.entries(quantity)),
    inUse: new Map(Object.entries(inUse)),
    parentOf: (tag) => parents.get(tag),
  });
  return new Map(
    [...allocation].map(([tag, a]) => [
      tag,
      { quantity: a.quantity, inUse: a.inUse, displayName: null, surplus: a.surplus, allocation: a },
    ]),
  );
}

describe('transferable', () => {
  it('keeps what covers the tag’s own usage and what it lends to each child', () => {
    const free = transferable('p', balancesOf({ p: 10, a: 1 }, { p: 2, a: 4, b: 1 }));
    expect(free).toEqual({
      quantity: 10,
      inUse: 2,
      lentTo: [
        { tag: 'a', count: 3 },
        { tag: 'b', count: 1 },
      ],
      available: 4,
    });
  });

  it('counts what a grandparent lends past a spent parent', () => {
    const free = transferable('root', balancesOf({ root: 5, p: 1 }, { a: 3 }));
    expect(free).toMatchObject({ quantity: 5, lentTo: [{ tag: 'a', count: 2 }], available: 3 });
  });

  it('is zero for a short tag and for a tag without pools', () => {
    expect(transferable('p', balancesOf({ p: 2 }, { p: 3 })).available).toBe(0);
    expect(transferable('x', balancesOf({}, {}))).toEqual({ quantity: 0, inUse: 0, lentTo: [], available: 0 });
  });

  it('without a hierarchy is active quantity minus in-use', () => {
    expect(transferable('solo', balancesOf({ solo: 5 }, { solo: 2 })).available).toBe(3);
  });
});
