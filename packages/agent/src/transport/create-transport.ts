import type { Destination } from '../state/agent-state.js';
import { HttpTransport } from './http-transport.js';
import { ProxyTransport } from './proxy-transport.js';
import type { Transport } from './transport.js';

/** What a transport needs besides the destination. */
export interface TransportSettings {
  /** The authority roots (PEM): trusted for HTTPS (and, elsewhere, to sign responses). */
  anchors: readonly string[];
  /** Extra TLS trust points (PEM), e.g. a TLS-intercepting proxy's CA: trusted for HTTPS only. */
  tlsTrustPoints?: readonly string[];
  timeoutMs: number;
  /** Skip TLS verification: only for fetching the root certificate on first use. */
  insecure?: boolean;
}

/**
 * The transport for a destination: through its HTTP(S) proxy when it has one, else direct. A
 * satellite is reached the same way: it is only another destination URL (see `transportType`).
 * HTTPS peers are checked against the platform roots, the anchors and the TLS trust points (one
 * cached TLS context per distinct list, see `trustContext`).
 */
export function createTransport(destination: Destination, settings: TransportSettings): Transport {
  const common = {
    baseUrl: destination.url,
    ca: settings.tlsTrustPoints?.length ? [...settings.anchors, ...settings.tlsTrustPoints] : settings.anchors,
    timeoutMs: settings.timeoutMs,
    ...(settings.insecure ? { insecure: true } : {}),
  };
  return destination.proxy ? new ProxyTransport({ ...common, proxyUrl: destination.proxy }) : new HttpTransport(common);
}
