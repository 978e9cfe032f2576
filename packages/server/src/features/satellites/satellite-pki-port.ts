import type { KeyObject } from 'node:crypto';
import type { IssuedCertificate } from './sync-format.js';

/** This node's signing key and the certificates that vouch for it: its own, then intermediates (root excluded). */
export interface SyncSigner {
  key: KeyObject;
  certificates: string[];
}

/**
 * What the sync needs of the PKI (`features/pki`), as functions of the running server so that a
 * certificate installed by a sync takes effect at once: on a node that serves satellites, its
 * signer and the issuing of satellite CAs; on a satellite, its registration key and the
 * installation of the certificate a sync brought.
 */
export interface SyncPki {
  signer(): SyncSigner;
  rootCaPem(): string;
  /** Issues a signing CA for a satellite's public key (1 year): by the root on the authority, by a middle satellite's CA. */
  issueSatelliteCa(o: { publicKeyPem: string; satelliteName: string; now: number }): Promise<IssuedCertificate>;
  /** The key this satellite registers and signs its requests with. */
  satelliteKey(): { publicKeyPem: string; privateKey: KeyObject };
  /** Installs the satellite's certificate (registration or renewal) and makes the server use it at once. */
  installSatelliteCertificate(o: { rootCaPem: string; certificatePem: string; chainPems: string[] }): Promise<void>;
}
