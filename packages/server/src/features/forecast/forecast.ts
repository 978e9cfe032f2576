/** One daily snapshot of a tag's pool: the day (`YYYY-MM-DD`), quantity and in use. */
export interface UsagePoint {
  day: string;
  quantity: number;
  inUse: number;
}

/** How many of the latest snapshots the trend is fitted to. */
export const FORECAST_WINDOW = 30;
/** A projected shortage further away than this is reported as none (a trend does not hold for decades). */
export const FORECAST_HORIZON_DAYS = 3650;

const DAY_MS = 86_400_000;

/** Day number (days since the epoch) of a `YYYY-MM-DD` day. */
export function dayNumber(day: string): number {
  return Math.round(Date.parse(`${day}T00:00:00Z`) / DAY_MS);
}

/** The `YYYY-MM-DD` day of a day number. */
export function dayOfNumber(n: number): string {
  return new Date(n * DAY_MS).toISOString().slice(0, 10);
}

/**
 * The least-squares slope of in-use over time, in licenses per day, of the last
 * {@link FORECAST_WINDOW} snapshots (gaps between days count as the days they are); 0 with
 * fewer than two snapshots.
 */
export function usageTrend(points: readonly UsagePoint[]): { perDay: number; used: number } {
  const recent = [...points].sort((a, b) => a.day.localeCompare(b.day)).slice(-FORECAST_WINDOW);
  if (recent.length < 2) return { perDay: 0, used: recent.length };
  const xs = recent.map((p) => dayNumber(p.day));
  const ys = recent.map((p) => p.inUse);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return { perDay: den === 0 ? 0 : num / den, used: recent.length };
}

/**
 * The day a pool is projected to run short: `today` when it already is (`surplus` < 0);
 * otherwise, with use rising `perDay`, the first day on which use exceeds what is free
 * today; null when use is flat or falling, or the day lies beyond {@link FORECAST_HORIZON_DAYS}.
 */
export function shortageDay(surplus: number, perDay: number, today: string): string | null {
  if (surplus < 0) return today;
  if (!(perDay > 1e-9)) return null;
  const days = Math.floor(surplus / perDay + 1e-9) + 1;
  if (days > FORECAST_HORIZON_DAYS) return null;
  return dayOfNumber(dayNumber(today) + days);
}
