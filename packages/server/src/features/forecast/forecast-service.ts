import type { Clock } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import { notFound } from '../../errors.js';
import { dayOf } from '../../jobs/usage-snapshots.js';
import type { Database } from '../../storage/schema.js';
import { findVirtualAccount } from '../accounts/account-store.js';
import type { LicenseSummary } from '../licenses/license-service.js';
import { dayNumber, dayOfNumber, FORECAST_WINDOW, shortageDay, type UsagePoint, usageTrend } from './forecast.js';

/** One tag's usage over time. */
export interface UsageHistory {
  tag: string;
  name: string;
  points: UsagePoint[];
}

/** One tag's compliance forecast. */
export interface TagForecast {
  tag: string;
  name: string;
  quantity: number;
  inUse: number;
  trendPerDay: number;
  shortageDate: string | null;
  basis: string;
}

export interface ForecastServiceDeps {
  db: Kysely<Database>;
  clock: Clock;
  /** The Licenses tab's rows (names, quantity, in use, surplus with the hierarchy). */
  licenses: { listLicenses(vaId: string): Promise<LicenseSummary[]> };
}

/** Snapshots older than this many days are not read for a forecast (the window is the last 30). */
const FORECAST_LOOKBACK_DAYS = 120;

/** Usage over time from the daily snapshots, and the compliance forecast fitted to them. */
export function createForecastService({ db, clock, licenses }: ForecastServiceDeps) {
  const snapshotsSince = async (vaId: string, firstDay: string): Promise<Map<string, UsagePoint[]>> => {
    const rows = await db
      .selectFrom('usage_snapshots')
      .select(['tag', 'day', 'quantity', 'in_use'])
      .where('va_id', '=', vaId)
      .where('day', '>=', firstDay)
      .orderBy('tag')
      .orderBy('day')
      .execute();
    const byTag = new Map<string, UsagePoint[]>();
    for (const r of rows) {
      const list = byTag.get(r.tag) ?? [];
      list.push({ day: r.day, quantity: Number(r.quantity), inUse: Number(r.in_use) });
      byTag.set(r.tag, list);
    }
    return byTag;
  };
  const firstDayOf = (days: number) => dayOfNumber(dayNumber(dayOf(clock.now())) - (days - 1));
  const checkVa = async (vaId: string) => {
    if (!(await findVirtualAccount(db, vaId))) throw notFound('Virtual account', vaId);
  };

  return {
    /** Each tag's snapshots of the last `days` days (today included), oldest first. */
    async usageHistory(vaId: string, days: number): Promise<UsageHistory[]> {
      await checkVa(vaId);
      const byTag = await snapshotsSince(vaId, firstDayOf(days));
      const names = new Map((await licenses.listLicenses(vaId)).map((l) => [l.tag, l.name]));
      return [...byTag].map(([tag, points]) => ({ tag, name: names.get(tag) ?? tag, points }));
    },

    /**
     * Per tag of the Licenses tab: quantity and in use now, the trend of use over the last 30
     * snapshots (least squares), and the day the pool is projected to run short (today when it
     * already is; null when use is flat or falling).
     */
    async forecast(vaId: string): Promise<TagForecast[]> {
      await checkVa(vaId);
      const today = dayOf(clock.now());
      const byTag = await snapshotsSince(vaId, firstDayOf(FORECAST_LOOKBACK_DAYS));
      return (await licenses.listLicenses(vaId)).map((row) => {
        const trend = usageTrend((byTag.get(row.tag) ?? []).slice(-FORECAST_WINDOW));
        return {
          tag: row.tag,
          name: row.name,
          quantity: row.quantity,
          inUse: row.inUse,
          trendPerDay: Math.round(trend.perDay * 1000) / 1000,
          shortageDate: shortageDay(row.surplus, trend.perDay, today),
          basis: `${trend.used} days of snapshots`,
        };
      });
    },
  };
}

export type ForecastService = ReturnType<typeof createForecastService>;
