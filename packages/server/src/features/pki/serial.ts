import { pooledRandomBytes } from '../../util/random-pool.js';

/**
 * A new certificate serial: 16 random bytes, positive, whose first hex digit is 1–7, so
 * the DER integer needs no padding byte and `normalizeSerial(X509Certificate.serialNumber)`
 * gives back exactly this string (lowercase hex, no leading zero).
 */
export function newCertificateSerial(): string {
  const bytes = pooledRandomBytes(16);
  const first = bytes[0]!;
  bytes[0] = ((1 + ((first >> 4) % 7)) << 4) | (first & 0x0f);
  return bytes.toString('hex');
}
