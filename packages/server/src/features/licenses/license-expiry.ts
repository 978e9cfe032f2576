import { DAY } from '@smartlic/protocol';

/** Days before its end at which a pool raises an alert (SPEC §9 notifications). */
export const EXPIRY_THRESHOLDS_DAYS = [30, 60, 90] as const;

/** The nearest threshold a pool ending at `endsAt` has crossed at `now`, or undefined (ended, perpetual or far). */
export function expiryThreshold(endsAt: number | null, now: number): number | undefined {
  if (endsAt === null || endsAt <= now) return undefined;
  return EXPIRY_THRESHOLDS_DAYS.find((days) => endsAt - now <= days * DAY);
}

/** The alert text of a threshold: `Expiring in 30 days`. */
export function expiryAlert(days: number): string {
  return `Expiring in ${days} days`;
}
