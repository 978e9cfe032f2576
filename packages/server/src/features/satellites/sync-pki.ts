import { SmartlicError } from '@smartlic/protocol';
import type { AuthorityPki } from '../pki/authority-pki.js';
import type { SyncPki } from './satellite-pki-port.js';

const notYet = (what: string) =>
  new SmartlicError('NOT_IMPLEMENTED', { message: `${what} is not implemented yet on this server.` });

/** This node's sync PKI: its signing certificate signs responses; satellite CAs come from `features/pki`. */
export function defaultSyncPki(pki: AuthorityPki, _dataDir: string): SyncPki {
  return {
    signer: () => ({ key: pki.signingKey, certificates: [pki.signingCertPem] }),
    rootCaPem: () => pki.rootCaPem,
    issueSatelliteCa: async () => {
      throw notYet('Issuing satellite certificates');
    },
    satelliteKey: () => {
      throw notYet('The satellite key');
    },
    installSatelliteCertificate: async () => {
      throw notYet('Installing satellite certificates');
    },
  };
}
