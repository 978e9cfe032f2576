import { parseCertificate, SmartlicError, splitPemBundle } from '@smartlic/protocol/core';
import type { Transport } from '../transport/transport.js';

/** Where the authority publishes its root CA certificate. */
export const ROOT_CA_ROUTE = '/api/v1/pki/root-ca';

/** A root certificate fetched for trust on first use, with its SHA-256 fingerprint (`AB:CD:…`). */
export interface FetchedRoot {
  pem: string;
  fingerprint: string;
}

/**
 * Fetches the authority's root CA certificate for trust on first use, through a transport that
 * does not check the server's TLS certificate (nothing is trusted yet); the operator checks the
 * returned fingerprint instead.
 */
export async function fetchRootCa(transport: Transport): Promise<FetchedRoot> {
  const response = await transport.get(ROOT_CA_ROUTE);
  if (response.status !== 200) {
    throw new SmartlicError('SEND_FAILED', {
      message: `The authority answered HTTP ${response.status} for its root certificate.`,
    });
  }
  const pem = splitPemBundle(pemText(response.body))[0];
  if (!pem) throw new SmartlicError('BAD_REQUEST', { message: 'The authority sent no root certificate.' });
  const info = parseCertificate(pem);
  if (!info.isCa)
    throw new SmartlicError('BAD_REQUEST', { message: 'The root certificate sent is not a CA certificate.' });
  return { pem: `${pem}\n`, fingerprint: info.cert.fingerprint256 };
}

/** The PEM text of a body that is either PEM or JSON carrying it (a string, or `{ pem | certificate | rootCa }`). */
function pemText(body: string): string {
  try {
    const value: unknown = JSON.parse(body);
    if (typeof value === 'string') return value;
    if (value && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      const found = [record.pem, record.certificate, record.rootCa, record.rootCaPem].find(
        (v) => typeof v === 'string',
      );
      if (typeof found === 'string') return found;
    }
  } catch {
    // not JSON: PEM text
  }
  return body;
}
