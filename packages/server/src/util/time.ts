/**
 * What the admin API shows in place of a stored time that no date can express (beyond ±8.64e15
 * ms, or not a number): such a row was written by a damaged or older database, as the routes
 * refuse dates outside 2000–9999. Showing it keeps the rest of a listing readable.
 */
export const INVALID_DATE = 'invalid date';

/** Whether `ms` is a time a `Date` can express. */
export function isShowableTime(ms: number): boolean {
  return !Number.isNaN(new Date(ms).getTime());
}

/** ISO-8601 form of a millisecond time, as the admin API shows dates; `INVALID_DATE` for a time no date can express. */
export function toIso(ms: number): string;
export function toIso(ms: number | null): string | null;
export function toIso(ms: number | null): string | null {
  if (ms === null) return null;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? INVALID_DATE : date.toISOString();
}
