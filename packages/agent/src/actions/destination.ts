import { parseCertificate, SmartlicError, splitPemBundle } from '@smartlic/protocol/core';
import type { AgentRuntime } from '../runtime.js';

/** What `setDestination` reports: the fingerprint of a root pinned on first use, or why pinning must wait. */
export interface DestinationResult {
  /** SHA-256 fingerprint (`AB:CD:…`) of the authority root certificate trusted on first use. */
  pinnedFingerprint?: string;
  /** Set when the root certificate could not be fetched now; it is fetched at the next call home. */
  warning?: string;
}

/** Options of `setDestination`: which certificates to trust, and for what. */
export interface DestinationOptions {
  /**
   * PEM bundle of the authority's root CA: added to the trust anchors, which responses must be
   * signed under (and which are trusted for TLS too). Without it, and with no anchor yet, the
   * root is fetched and pinned on first use.
   */
  authorityRootPem?: string;
  /**
   * PEM bundle of extra TLS trust points, e.g. the CA of a TLS-intercepting proxy: trusted to
   * identify HTTPS peers only, never to sign licensing responses.
   */
  trustPem?: string;
  /** `http://[user:password@]host:port` of an HTTP(S) proxy to go through. */
  proxy?: string;
}

/**
 * `call-home destination URL [--proxy URL] [--root ROOT-CA.pem] [--trust PEM-FILE]`: sets the
 * destination, adds authority roots (signing anchors) and TLS trust points, and pins the
 * authority's root on first use when no anchor is known yet. Malformed arguments are refused
 * with `BAD_REQUEST`.
 */
export async function configureDestination(
  rt: AgentRuntime,
  url: string,
  options: DestinationOptions,
): Promise<DestinationResult> {
  checkHttpUrl(url, 'call-home URL');
  if (options.proxy !== undefined) checkHttpUrl(options.proxy, 'proxy URL');
  const roots =
    options.authorityRootPem === undefined ? [] : certificates(options.authorityRootPem, 'authority root PEM');
  const points = options.trustPem === undefined ? [] : certificates(options.trustPem, 'trust PEM');
  const { trust } = rt.state;
  const anchors = [...new Set([...trust.anchors, ...roots])];
  // A certificate that is an anchor is trusted for TLS already; keep each in one list only.
  const tlsTrustPoints = [...new Set([...(trust.tlsTrustPoints ?? []), ...points])].filter((p) => !anchors.includes(p));
  const destination = { url: url.trim(), ...(options.proxy ? { proxy: options.proxy.trim() } : {}) };
  await rt.commit({ type: 'destination-set', destination, anchors, tlsTrustPoints });
  if (anchors.length > 0) return {};
  const failure = await rt.ensureTrust();
  if (failure) {
    const why = failure.detail ?? failure.reason;
    return {
      warning: `The authority's root certificate could not be fetched (${why}); it will be fetched at the next call home.`,
    };
  }
  const pinned = rt.state.trust.pinnedFingerprint;
  return pinned ? { pinnedFingerprint: pinned } : {};
}

function checkHttpUrl(value: string, what: string): void {
  let url: URL | undefined;
  try {
    url = new URL(value.trim());
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new SmartlicError('BAD_REQUEST', {
      message: `The ${what} must be an http:// or https:// URL, not "${value}".`,
    });
  }
}

/** The certificates of a PEM bundle (`what` names it in errors), each checked to be readable. */
function certificates(pem: string, what: string): string[] {
  const certs = splitPemBundle(pem).map((c) => `${c}\n`);
  if (certs.length === 0) throw new SmartlicError('BAD_REQUEST', { message: `The ${what} holds no certificate.` });
  for (const cert of certs) {
    try {
      parseCertificate(cert);
    } catch (cause) {
      throw new SmartlicError('BAD_REQUEST', {
        message: `The ${what} holds a certificate that cannot be read.`,
        cause,
      });
    }
  }
  return certs;
}
