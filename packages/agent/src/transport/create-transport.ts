import type { Destination } from '../state/agent-state.js';
import { HttpTransport } from './http-transport.js';
import { ProxyTransport } from './proxy-transport.js';
import type { Transport } from './transport.js';

/** What a transport needs besides the destination. */
export interface TransportSettings {
  /** Trust anchors (PEM) for HTTPS: the authority root and imported trust points. */
  anchors: readonly string[];
  timeoutMs: number;
  /** Skip TLS verification: only for fetching the root certificate on first use. */
  insecure?: boolean;
}

/**
 * The transport for a destination: through its HTTP(S) proxy when it has one, else direct. A
 * satellite is reached the same way: it is only another destination URL (see `transportType`).
 */
export function createTransport(destination: Destination, settings: TransportSettings): Transport {
  const common = {
    baseUrl: destination.url,
    ca: settings.anchors,
    timeoutMs: settings.timeoutMs,
    ...(settings.insecure ? { insecure: true } : {}),
  };
  return destination.proxy ? new ProxyTransport({ ...common, proxyUrl: destination.proxy }) : new HttpTransport(common);
}
