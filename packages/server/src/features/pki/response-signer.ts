import { canonicalBytes, type Envelope } from '@smartlic/protocol';
import { signBytesAsync } from '../../crypto/async-signatures.js';
import type { AuthorityPki } from './authority-pki.js';

/**
 * Signs a response payload with the signing key, naming the signing certificate's serial:
 * protocol's `signEnvelope`, with the ECDSA work on the thread pool.
 */
export async function signResponse<P extends object>(pki: AuthorityPki, payload: P): Promise<Envelope<P>> {
  const value = (await signBytesAsync(canonicalBytes(payload), pki.signingKey)).toString('base64url');
  return { payload, signature: { alg: pki.signingAlg, certSerial: pki.signingCertSerial, value } };
}
