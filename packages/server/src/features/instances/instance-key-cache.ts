import type { KeyObject } from 'node:crypto';

/** What the device routes need to authenticate an instance's message. */
export interface InstanceIdentity {
  id: string;
  vaId: string;
  publicKey: KeyObject;
  idCertSerial: string;
  idCertExpiresAt: number;
}

/**
 * Instances' public keys by id, so that a renewal does not parse a key per request.
 * Entries are dropped when an instance renews its certificate or is removed; the device
 * routes also re-check the certificate serial in their transaction, so a stale entry can
 * never authorise anything. Beyond `capacity` the oldest entries go first.
 */
export class InstanceKeyCache {
  readonly #entries = new Map<string, InstanceIdentity>();

  constructor(private readonly capacity = 100_000) {}

  get(id: string): InstanceIdentity | undefined {
    return this.#entries.get(id);
  }

  set(identity: InstanceIdentity): void {
    this.#entries.delete(identity.id);
    if (this.#entries.size >= this.capacity) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(identity.id, identity);
  }

  delete(id: string): void {
    this.#entries.delete(id);
  }

  get size(): number {
    return this.#entries.size;
  }
}
