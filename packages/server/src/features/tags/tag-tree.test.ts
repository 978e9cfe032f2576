import { describe, expect, it } from 'vitest';
import { buildTagTree } from './tag-tree.js';

describe('tag tree', () => {
  it('gives every tag of a family the whole family, whatever the order of the rows', () => {
    const tree = buildTagTree([
      { tag: 'C9500 32C NW Advantage', parent_tag: 'C9500 Network Advantage', display_name: null },
      { tag: 'C9500 24Y4C NW Advantage', parent_tag: 'C9500 Network Advantage', display_name: null },
      { tag: 'C9500 Network Advantage', parent_tag: null, display_name: 'Network Advantage' },
    ]);
    const family = ['C9500 24Y4C NW Advantage', 'C9500 32C NW Advantage', 'C9500 Network Advantage'];
    for (const tag of family) expect(tree.family(tag)).toEqual(family);
    expect(tree.parentOf('C9500 24Y4C NW Advantage')).toBe('C9500 Network Advantage');
    expect(tree.displayName('C9500 Network Advantage')).toBe('Network Advantage');
    expect(tree.family('standalone')).toEqual(['standalone']);
  });
});
