import { randomFillSync } from 'node:crypto';

// Random bytes drawn ahead from the CSPRNG, 4 KiB at a time, as node's randomUUID keeps its
// own: a registration takes a few small draws (a certificate serial, an instance id), and
// one call into the CSPRNG per draw cost the event loop more than the draw itself (issue 15).
const POOL = Buffer.alloc(4096);
let offset = POOL.length;

/** `n` cryptographically random bytes (at most 4,096), a copy of the caller's own. */
export function pooledRandomBytes(n: number): Buffer {
  if (n > POOL.length) throw new RangeError(`at most ${POOL.length} pooled random bytes at a time, not ${n}`);
  if (offset + n > POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  const out = Buffer.from(POOL.subarray(offset, offset + n));
  // Bytes handed out are never handed out again.
  POOL.fill(0, offset, offset + n);
  offset += n;
  return out;
}
