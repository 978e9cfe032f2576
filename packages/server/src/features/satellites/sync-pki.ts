import type { PkiHolder } from '../pki/pki-holder.js';
import {
  ensureSatelliteKey,
  installSatelliteCertificate,
  issueSatelliteCa,
  satelliteCaIssuer,
} from '../pki/satellite-pki.js';
import type { SyncPki } from './satellite-pki-port.js';

/**
 * This node's sync PKI over `features/pki`: its current signing certificate (and chain) signs
 * sync responses; satellite CAs are issued by the root key on the authority, by the satellite's
 * own signing CA on a middle satellite; a satellite's key and certificate live in `<data>/pki`,
 * and an installed certificate replaces the running server's PKI at once.
 */
export function defaultSyncPki(pki: PkiHolder, dataDir: string): SyncPki {
  return {
    signer: () => {
      const current = pki.current();
      return { key: current.signingKey, certificates: [current.signingCertPem, ...current.chainPems] };
    },
    rootCaPem: () => pki.current().rootCaPem,
    issueSatelliteCa: async (o) => issueSatelliteCa({ ...o, issuer: await satelliteCaIssuer(dataDir) }),
    satelliteKey: () => ensureSatelliteKey(dataDir),
    installSatelliteCertificate: (o) => installSatelliteCertificate(dataDir, { ...o, pki }),
  };
}
