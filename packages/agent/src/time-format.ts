import { DAY, HOUR, MINUTE, SECOND } from '@smartlic/protocol/core';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number): string => String(n).padStart(2, '0');

/** A date as IOS XE prints it: `Jun 22 16:15:41 2022 UTC`. Accepts ms or an ISO string. */
export function formatDate(value: number | string): string {
  const d = new Date(value);
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return `${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCDate())} ${time} ${d.getUTCFullYear()} UTC`;
}

/** A duration as the vendor prints evaluation time: `89 days, 0 hours, 4 minutes, 34 seconds`. */
export function formatDuration(ms: number): string {
  let rest = Math.max(0, Math.floor(ms / SECOND) * SECOND);
  const days = Math.floor(rest / DAY);
  rest -= days * DAY;
  const hours = Math.floor(rest / HOUR);
  rest -= hours * HOUR;
  const minutes = Math.floor(rest / MINUTE);
  const seconds = Math.floor((rest - minutes * MINUTE) / SECOND);
  return `${days} days, ${hours} hours, ${minutes} minutes, ${seconds} seconds`;
}

/** ISO 8601 form of a time in ms, or null. */
export function isoOrNull(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}
