import type { KeyObject } from 'node:crypto';

/** What the device routes need to authenticate an instance's message. */
export interface InstanceIdentity {
  id: string;
  vaId: string;
  publicKey: KeyObject;
  idCertSerial: string;
  idCertExpiresAt: number;
  /**
   * The certificate the current one replaced, while the device has not yet used the
   * current one: a renewal whose answer was lost leaves the device holding it.
   */
  previous?: IdCertificateKey | undefined;
}

/** What checking a message signed with one ID certificate needs. */
export interface IdCertificateKey {
  serial: string;
  publicKey: KeyObject;
  expiresAt: number;
}

/**
 * Instances' public keys by id, so that a renewal does not parse a key per request.
 * Entries are replaced when an instance renews its certificate or first uses a renewed
 * one, and dropped when it is removed; the device routes also re-check in their
 * transaction that the certificate a message was signed with is still the instance's
 * current (or still-accepted previous) one, so a stale entry — say, one another process
 * has moved past — can never authorise anything. Beyond `capacity` the oldest entries go first.
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
