import type { Destination } from '../state/agent-state.js';
import { HttpTransport } from './http-transport.js';
import { type Transport, TransportError } from './transport.js';

/** What a transport needs besides the destination. */
export interface TransportSettings {
  /** Trust anchors (PEM) for HTTPS. */
  anchors: readonly string[];
  timeoutMs: number;
  /** Skip TLS verification: only for fetching the root certificate on first use. */
  insecure?: boolean;
}

/** A transport that refuses every message: the proxy transport is not built yet. */
class UnavailableTransport implements Transport {
  constructor(private readonly why: string) {}
  postJson(): Promise<never> {
    return Promise.reject(new TransportError('unavailable', this.why));
  }
  get(): Promise<never> {
    return this.postJson();
  }
}

/** The transport for a destination: direct HTTP(S), or (later) through an HTTP proxy. */
export function createTransport(destination: Destination, settings: TransportSettings): Transport {
  if (destination.proxy) return new UnavailableTransport('The HTTP proxy transport is not available in this version.');
  return new HttpTransport({
    baseUrl: destination.url,
    ca: settings.anchors,
    timeoutMs: settings.timeoutMs,
    ...(settings.insecure ? { insecure: true } : {}),
  });
}
