/** Where part of a tag's demand is covered: its own pools or an ancestor's. */
export interface Coverage {
  tag: string;
  count: number;
}

/** The allocation of one tag of one VA (license hierarchy, SPEC §2). */
export interface TagAllocation {
  /** Licenses of the tag's own active pools. */
  quantity: number;
  /** Sum of the counts instances request for the tag itself. */
  inUse: number;
  /** Demand covered by the tag's own pools. */
  coveredByOwn: number;
  /** Demand covered by ancestors' pools, nearest first. */
  coveredByParent: Coverage[];
  /** Own licenses lent to descendants' demand. */
  lent: number;
  /** Demand no pool up the chain covers. */
  uncovered: number;
  /** Own licenses left after own demand and lending, minus uncovered demand: quantity − inUse without a hierarchy. */
  surplus: number;
}

/** Quantity and in-use per tag, and the parent of each tag that has one. */
export interface AllocationInput {
  quantity: ReadonlyMap<string, number>;
  inUse: ReadonlyMap<string, number>;
  parentOf: (tag: string) => string | undefined;
}

/**
 * Allocates a VA's licenses to its demand, deterministically: each tag's demand is covered
 * first by its own pools; what is left short then goes up the chain of ancestors, nearest
 * first, taking what they have left after their own demand. Shortages are served in order
 * of depth (deepest first) then tag, so that a generic pool covers its own demand before
 * its children's overflow and every run gives the same answer.
 */
export function allocate({ quantity, inUse, parentOf }: AllocationInput): Map<string, TagAllocation> {
  const tags = [...new Set([...quantity.keys(), ...inUse.keys()])];
  const result = new Map<string, TagAllocation>();
  const left = new Map<string, number>();
  const short = new Map<string, number>();
  for (const tag of tags) {
    const q = quantity.get(tag) ?? 0;
    const d = inUse.get(tag) ?? 0;
    const own = Math.min(q, d);
    result.set(tag, {
      quantity: q,
      inUse: d,
      coveredByOwn: own,
      coveredByParent: [],
      lent: 0,
      uncovered: 0,
      surplus: 0,
    });
    left.set(tag, q - own);
    short.set(tag, d - own);
  }
  const depth = (tag: string): number => ancestors(tag, parentOf).length;
  const order = tags.filter((t) => (short.get(t) ?? 0) > 0).sort((a, b) => depth(b) - depth(a) || compare(a, b));
  for (const tag of order) {
    let need = short.get(tag) ?? 0;
    const entry = result.get(tag)!;
    for (const ancestor of ancestors(tag, parentOf)) {
      if (need === 0) break;
      const available = left.get(ancestor) ?? 0;
      const take = Math.min(available, need);
      if (take === 0) continue;
      left.set(ancestor, available - take);
      need -= take;
      entry.coveredByParent.push({ tag: ancestor, count: take });
      const lender = result.get(ancestor);
      if (lender) lender.lent += take;
    }
    entry.uncovered = need;
  }
  for (const [tag, entry] of result) entry.surplus = (left.get(tag) ?? 0) - entry.uncovered;
  return result;
}

/**
 * How many more of `tag` an allocation can cover without uncovering demand it covers now:
 * what the tag's own pools have left, then what each ancestor has left: where `allocate`
 * would put more demand for `tag`. Zero when the tag is already short (its chain is then spent).
 */
export function headroom(
  tag: string,
  allocation: ReadonlyMap<string, TagAllocation>,
  parentOf: (tag: string) => string | undefined,
): number {
  // Surplus is what is left minus what is uncovered; a tag with uncovered demand has nothing left.
  const left = (t: string): number => Math.max(0, allocation.get(t)?.surplus ?? 0);
  return [tag, ...ancestors(tag, parentOf)].reduce((sum, t) => sum + left(t), 0);
}

/** A tag's ancestors, nearest first; stops at a cycle (the catalogue refuses them anyway). */
export function ancestors(tag: string, parentOf: (tag: string) => string | undefined): string[] {
  const chain: string[] = [];
  const seen = new Set([tag]);
  for (let p = parentOf(tag); p !== undefined && !seen.has(p); p = parentOf(p)) {
    chain.push(p);
    seen.add(p);
  }
  return chain;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
