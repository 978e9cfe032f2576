import { parseCertificate, SmartlicError, splitPemBundle } from '@smartlic/protocol';
import type { AgentRuntime } from '../runtime.js';

/** What `setDestination` reports: the fingerprint of a root pinned on first use, or why pinning must wait. */
export interface DestinationResult {
  /** SHA-256 fingerprint (`AB:CD:…`) of the authority root certificate trusted on first use. */
  pinnedFingerprint?: string;
  /** Set when the root certificate could not be fetched now; it is fetched at the next call home. */
  warning?: string;
}

/**
 * `call-home destination URL [--proxy URL] [--trust PEM-FILE]`: sets the destination, adds extra
 * trust anchors, and pins the authority's root on first use when nothing is trusted yet.
 * Malformed arguments are refused with `BAD_REQUEST`.
 */
export async function configureDestination(
  rt: AgentRuntime,
  url: string,
  options: { trustPem?: string; proxy?: string },
): Promise<DestinationResult> {
  checkHttpUrl(url, 'call-home URL');
  if (options.proxy !== undefined) checkHttpUrl(options.proxy, 'proxy URL');
  const extra = options.trustPem === undefined ? [] : trustBundle(options.trustPem);
  const anchors = [...new Set([...rt.state.trust.anchors, ...extra])];
  const destination = { url: url.trim(), ...(options.proxy ? { proxy: options.proxy.trim() } : {}) };
  await rt.commit({ type: 'destination-set', destination, anchors });
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

/** The certificates of a PEM bundle, each checked to be readable. */
function trustBundle(pem: string): string[] {
  const certs = splitPemBundle(pem).map((c) => `${c}\n`);
  if (certs.length === 0) throw new SmartlicError('BAD_REQUEST', { message: 'The trust PEM holds no certificate.' });
  for (const cert of certs) {
    try {
      parseCertificate(cert);
    } catch (cause) {
      throw new SmartlicError('BAD_REQUEST', {
        message: 'The trust PEM holds a certificate that cannot be read.',
        cause,
      });
    }
  }
  return certs;
}
