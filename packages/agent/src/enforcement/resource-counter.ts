import type { CountedResource } from './profiles.js';

/** The reason a counted resource is refused at its licensed count (seed 002). */
export const LICENSE_LIMIT_EXCEEDED = 'License limit exceeded';

/** The answer of `acquire`: granted, or refused with the reason the product reports. */
export type AcquireResult =
  | { ok: true; tag: string; inUse: number; licensed: number }
  | { ok: false; tag: string; reason: string; inUse: number; licensed: number };

/** The alarm text of a resource refused at `licensed` (seed 002, word for word for room systems). */
export function limitAlarm(resource: CountedResource, licensed: number): string {
  return (
    `${resource.label} license limit reached. A ${resource.unit} failed because there were no available ` +
    `${resource.label.toLowerCase()} licenses. You are licensed for ${licensed} concurrent ${resource.units}.`
  );
}

/** How a tag without a described resource is named in the alarm. */
export function genericResource(name: string): CountedResource {
  return { label: name, unit: `use of ${name}`, units: `uses of ${name}` };
}

/**
 * Concurrent uses per tag, in memory (a restarted product re-registers its endpoints). Remembers
 * which tags are at their limit, so the alarm is raised once per time a limit is reached.
 */
export class ResourceCounter {
  private readonly inUse = new Map<string, number>();
  private readonly alarmed = new Set<string>();

  /** Uses of `tag` now. */
  count(tag: string): number {
    return this.inUse.get(tag) ?? 0;
  }

  /** Takes one use of `tag`; being below the limit, its alarm is re-armed. */
  take(tag: string): number {
    const next = this.count(tag) + 1;
    this.inUse.set(tag, next);
    this.alarmed.delete(tag);
    return next;
  }

  /** Gives one use of `tag` back (never below 0). */
  give(tag: string): number {
    const next = Math.max(0, this.count(tag) - 1);
    if (next === 0) this.inUse.delete(tag);
    else this.inUse.set(tag, next);
    return next;
  }

  /** True the first time `tag` is refused since its limit was last reached (raise the alarm then). */
  firstRefusal(tag: string): boolean {
    if (this.alarmed.has(tag)) return false;
    this.alarmed.add(tag);
    return true;
  }
}
