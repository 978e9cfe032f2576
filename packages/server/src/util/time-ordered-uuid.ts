import { pooledRandomBytes } from './random-pool.js';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * A version 7 UUID (RFC 9562 §5.7): the Unix time in milliseconds in its first 48 bits, then
 * 74 random bits. Ids made one after another sort (as text too) in the order they were made,
 * to the millisecond, so a primary key of them grows at the end of its index instead of
 * dirtying a random page of it on every insert — what a fleet registering thousands of
 * devices a second writes (issue 15). The time is that of the authority's wall clock; the
 * certificate of an instance already states when it was registered, so the id reveals nothing new.
 */
export function timeOrderedUuid(ms: number = Date.now()): string {
  const r = pooledRandomBytes(10);
  const time = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0').slice(-12);
  const h = (i: number) => HEX[r[i]!]!;
  return (
    `${time.slice(0, 8)}-${time.slice(8)}-` +
    `7${HEX[r[0]! & 0x0f]!.slice(1)}${h(1)}-` +
    `${HEX[(r[2]! & 0x3f) | 0x80]}${h(3)}-` +
    `${h(4)}${h(5)}${h(6)}${h(7)}${h(8)}${h(9)}`
  );
}
