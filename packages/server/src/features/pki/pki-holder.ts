import { SmartlicError } from '@smartlic/protocol';
import type { AuthorityPki } from './authority-pki.js';

/**
 * The PKI the running server signs with, swappable while it runs: a satellite starts without
 * one (not registered yet) and gets one — or a renewed one — from a sync
 * (`installSatelliteCertificate`), which every later request uses at once, without a restart.
 * Each request reads `current()` once and keeps that PKI to its end, so a swap never mixes two
 * certificates in one answer.
 */
export class PkiHolder {
  #pki: AuthorityPki | null;
  readonly #notRegistered: string;

  /**
   * @param initial the PKI loaded at start; `null` on a satellite not registered yet.
   * @param notRegisteredMessage what `current()` answers devices while there is none.
   */
  constructor(initial: AuthorityPki | null, notRegisteredMessage = NOT_REGISTERED_MESSAGE) {
    this.#pki = initial;
    this.#notRegistered = notRegisteredMessage;
  }

  /**
   * The PKI to sign with now. Throws `SATELLITE_NOT_REGISTERED` (503, a device tries again
   * later) while a satellite has none yet.
   */
  current(): AuthorityPki {
    if (this.#pki) return this.#pki;
    throw new SmartlicError('SATELLITE_NOT_REGISTERED', { message: this.#notRegistered });
  }

  /** The PKI, or `null` before a satellite's registration. */
  peek(): AuthorityPki | null {
    return this.#pki;
  }

  /** Whether there is a PKI to sign with (false only on a satellite not registered yet). */
  get ready(): boolean {
    return this.#pki !== null;
  }

  /** Makes every later request use `pki` (registration or renewal of a satellite's certificate). */
  replace(pki: AuthorityPki): void {
    this.#pki = pki;
  }
}

/** What devices hear from a satellite that has no signing certificate yet. */
export const NOT_REGISTERED_MESSAGE =
  'This satellite is not registered yet: run smartlic admin sync register --token TOKEN on it, then try again.';
