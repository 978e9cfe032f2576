import { pooledRandomBytes } from './random-pool.js';

/**
 * A version 7 UUID (RFC 9562 §5.7): the Unix time in milliseconds in its first 48 bits, then
 * 74 random bits. Ids made one after another sort (as text too) in the order they were made,
 * to the millisecond, so a primary key of them grows at the end of its index instead of
 * dirtying a random page of it on every insert — what a fleet registering thousands of
 * devices a second writes (issue 15). `ms` is the registration's time on the authority's clock,
 * from which the instance's certificate counts its validity, so the id
 * reveals nothing new.
 */
export function timeOrderedUuid(ms: number): string {
  const r = pooledRandomBytes(10);
  r[0] = (r[0]! & 0x0f) | 0x70; // version 7, then 12 random bits
  r[2] = (r[2]! & 0x3f) | 0x80; // variant 10, then 62 random bits
  const random = r.toString('hex');
  const time = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0').slice(-12);
  return `${time.slice(0, 8)}-${time.slice(8)}-${random.slice(0, 4)}-${random.slice(4, 8)}-${random.slice(8)}`;
}
