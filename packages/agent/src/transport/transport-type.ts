import type { Destination } from '../state/agent-state.js';

/** How the status names the way messages travel (`Transport: Type:` in `show license status`). */
export type TransportType = 'direct' | 'proxy' | 'satellite' | 'none';

/**
 * Whether `url` names a satellite (Smart Software Manager On-Prem): its path ends with
 * `/SmartTransport`, as seed 002 configures one. Messages go to it like to any destination,
 * below that path (`…/SmartTransport/api/v1/device/register`).
 */
export function isSatelliteUrl(url: string): boolean {
  try {
    return /\/SmartTransport\/?$/i.test(new URL(url).pathname);
  } catch {
    return false;
  }
}

/** The transport type of a destination: `satellite` for a satellite URL (even through a proxy), else `proxy` or `direct`. */
export function transportType(destination: Destination | undefined): TransportType {
  if (!destination) return 'none';
  if (isSatelliteUrl(destination.url)) return 'satellite';
  return destination.proxy ? 'proxy' : 'direct';
}

/** A URL with its password shown as `*****` (`http://user:*****@proxy:3128`), for the status. */
export function redactPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password) return url;
    parsed.password = '*****';
    return parsed.href.replace(/\/$/, url.endsWith('/') ? '/' : '');
  } catch {
    return url;
  }
}
