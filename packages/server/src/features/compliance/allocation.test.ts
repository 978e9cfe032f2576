import { describe, expect, it } from 'vitest';
import { allocate, headroom } from './allocation.js';

const parents: Record<string, string> = { specific: 'generic', other: 'generic', generic: 'root' };
const parentOf = (tag: string) => parents[tag];

describe('allocation over the license hierarchy', () => {
  it('covers a specific tag by its own pool first, then by its parent', () => {
    const a = allocate({ quantity: new Map([['generic', 5]]), inUse: new Map([['specific', 6]]), parentOf });
    expect(a.get('specific')).toMatchObject({
      coveredByOwn: 0,
      coveredByParent: [{ tag: 'generic', count: 5 }],
      uncovered: 1,
      surplus: -1,
    });
    expect(a.get('generic')).toMatchObject({ quantity: 5, inUse: 0, lent: 5, surplus: 0 });
  });

  it('serves a generic pool’s own demand before children’s overflow, then goes up the chain', () => {
    const a = allocate({
      quantity: new Map([
        ['specific', 1],
        ['generic', 3],
        ['root', 2],
      ]),
      inUse: new Map([
        ['specific', 4],
        ['generic', 2],
        ['other', 2],
      ]),
      parentOf,
    });
    expect(a.get('generic')).toMatchObject({ coveredByOwn: 2, lent: 1, surplus: 0 });
    // Same depth, so by name: other (2 short) takes generic's last 1 and 1 of root's 2;
    // specific (1 own, 3 short) gets root's last 1 and stays 2 short.
    expect(a.get('other')).toMatchObject({
      coveredByParent: [
        { tag: 'generic', count: 1 },
        { tag: 'root', count: 1 },
      ],
      uncovered: 0,
    });
    expect(a.get('specific')).toMatchObject({
      coveredByOwn: 1,
      coveredByParent: [{ tag: 'root', count: 1 }],
      uncovered: 2,
      surplus: -2,
    });
    expect(a.get('root')).toMatchObject({ lent: 2, surplus: 0 });
  });

  it('is quantity − inUse for tags outside the hierarchy', () => {
    const a = allocate({ quantity: new Map([['x', 3]]), inUse: new Map([['x', 5]]), parentOf: () => undefined });
    expect(a.get('x')).toMatchObject({ surplus: -2, uncovered: 2 });
  });

  it('gives the headroom of a tag: its own pool left, then what its ancestors have left', () => {
    const quantity = new Map([
      ['specific', 1],
      ['generic', 3],
      ['root', 2],
    ]);
    // generic lends 2 to other; root is untouched.
    const a = allocate({ quantity, inUse: new Map([['other', 2]]), parentOf });
    expect(headroom('specific', a, parentOf)).toBe(1 + 1 + 2);
    expect(headroom('other', a, parentOf)).toBe(0 + 1 + 2);
    expect(headroom('root', a, parentOf)).toBe(2);
    // A tag already short has spent its whole chain.
    const short = allocate({ quantity, inUse: new Map([['specific', 9]]), parentOf });
    expect(headroom('specific', short, parentOf)).toBe(0);
    expect(headroom('other', short, parentOf)).toBe(0);
    expect(headroom('x', a, () => undefined)).toBe(0);
  });
});
