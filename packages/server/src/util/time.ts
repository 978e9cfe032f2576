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

const YEAR_10000 = Date.UTC(10_000, 0, 1);

/**
 * A {@link toIso} that remembers the minute it last formatted, for long runs of close times
 * (a report's rows in registration order): a time in the same minute reuses that minute's
 * text and only writes its seconds. Answers exactly what `toIso` answers.
 */
export function minuteCachedIso(): (ms: number) => string {
  let minute = Number.NaN;
  let prefix = '';
  return (ms) => {
    const m = Math.floor(ms / 60_000);
    // Only whole ms of years 1970–9999 (four-digit years; beyond them are signed years and the end of dates).
    const plain = Number.isInteger(ms) && ms >= 0 && ms < YEAR_10000;
    if (m !== minute || !plain) {
      const text = toIso(ms);
      if (!plain) return text;
      minute = m;
      prefix = text.slice(0, -7); // `…THH:MM:`, before `SS.mmmZ`
      return text;
    }
    const rest = ms - m * 60_000;
    const s = Math.floor(rest / 1000);
    const milli = rest - s * 1000;
    return `${prefix}${s < 10 ? '0' : ''}${s}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
  };
}
