import { canonicalBytes, type Envelope } from '@smartlic/protocol';
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
