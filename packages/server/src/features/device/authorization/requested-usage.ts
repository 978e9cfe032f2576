import type { EntitlementUsage } from '@smartlic/protocol';
import type { UsageEntry } from '../../compliance/usage-store.js';

/**
 * The entitlements of a request, one entry per tag in first-seen order: counts of a tag
 * named twice are added up; the first display name given is kept.
 */
export function mergeEntitlements(entitlements: readonly EntitlementUsage[]): UsageEntry[] {
  const byTag = new Map<string, UsageEntry>();
  for (const e of entitlements) {
    const seen = byTag.get(e.tag);
    if (seen) {
      seen.count += e.count;
      seen.displayName ??= e.displayName ?? null;
    } else {
      byTag.set(e.tag, { tag: e.tag, count: e.count, displayName: e.displayName ?? null });
    }
  }
  return [...byTag.values()];
}
