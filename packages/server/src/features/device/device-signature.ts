import type { KeyObject } from 'node:crypto';
import { canonicalBytes, type Envelope, SmartlicError } from '@smartlic/protocol';
import { verifyBytesAsync } from '../../crypto/async-signatures.js';

/**
 * The one check of a device message's signature, used by every device route: the
 * signature must verify with `publicKey` over the canonical form of the payload as
 * received, with the algorithm it names matching the key. Rejects with
 * `SIGNATURE_MISMATCH` ("data and signature do not match"). The ECDSA work runs on the
 * thread pool, off the event loop.
 */
export async function verifyDeviceSignature(envelope: Envelope<unknown>, publicKey: KeyObject): Promise<void> {
  let bytes: Buffer;
  try {
    bytes = canonicalBytes(envelope.payload);
  } catch {
    throw new SmartlicError('SIGNATURE_MISMATCH');
  }
  const signature = Buffer.from(envelope.signature.value, 'base64url');
  if (!(await verifyBytesAsync(bytes, signature, publicKey, envelope.signature.alg))) {
    throw new SmartlicError('SIGNATURE_MISMATCH');
  }
}
