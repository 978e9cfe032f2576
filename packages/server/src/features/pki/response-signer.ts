import { canonicalBytes, canonicalize, type Envelope } from '@smartlic/protocol';
import { signBytesAsync } from '../../crypto/async-signatures.js';
import type { AuthorityPki } from './authority-pki.js';

/**
 * Signs a response payload with the signing key, naming the signing certificate's serial:
 * protocol's `signEnvelope`, with the ECDSA work on the thread pool. A satellite's answer also
 * carries `chain`, the intermediates between its signing certificate and the root, so a device
 * that trusts only the root accepts it. When the request named `namedSigningSerial`, an earlier
 * certificate of the same key (a satellite's renewal), the answer carries the current one as
 * `signer`, which the device keeps from then on.
 */
export async function signResponse<P extends object>(
  pki: AuthorityPki,
  payload: P,
  namedSigningSerial?: string,
): Promise<Envelope<P>> {
  const value = (await signBytesAsync(canonicalBytes(payload), pki.signingKey)).toString('base64url');
  return envelopeOf(pki, payload, value, namedSigningSerial);
}

/** A signed answer and its JSON text, ready to send. */
export interface SignedAnswer<P> {
  envelope: Envelope<P>;
  /** The envelope as JSON; its payload is written in the canonical form the signature covers. */
  json: string;
}

/**
 * {@link signResponse}, with the answer's JSON text written from the canonical form that was
 * signed: the payload is serialised once, not once for the signature and again for the reply
 * (the authorization's hot path). The text parses to the same envelope.
 */
export async function signAnswer<P extends object>(
  pki: AuthorityPki,
  payload: P,
  namedSigningSerial?: string,
): Promise<SignedAnswer<P>> {
  const text = canonicalize(payload);
  const value = (await signBytesAsync(Buffer.from(text, 'utf8'), pki.signingKey)).toString('base64url');
  const envelope = envelopeOf(pki, payload, value, namedSigningSerial);
  const { payload: _signed, ...rest } = envelope;
  // `rest` always holds `signature`: its JSON is `{"signature":…}`, which continues after the payload.
  return { envelope, json: `{"payload":${text},${JSON.stringify(rest).slice(1)}` };
}

function envelopeOf<P extends object>(
  pki: AuthorityPki,
  payload: P,
  value: string,
  namedSigningSerial: string | undefined,
): Envelope<P> {
  const signature = { alg: pki.signingAlg, certSerial: pki.signingCertSerial, value };
  return {
    payload,
    signature,
    ...(pki.chainPems.length > 0 ? { chain: pki.chainPems } : {}),
    // The device named an earlier certificate of this key: it gets the renewed one to keep.
    ...(namedSigningSerial !== undefined && namedSigningSerial !== pki.signingCertSerial
      ? { signer: pki.signingCertPem }
      : {}),
  };
}
