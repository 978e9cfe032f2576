import { createPublicKey, type KeyObject, webcrypto } from 'node:crypto';
import { DAY, generateKeyPair } from '@smartlic/protocol';
import type { AuthorityPki } from '../features/pki/authority-pki.js';
import { BACKDATE_MS, toCertTime } from '../features/pki/certificate-factory.js';
import { pkiPaths, readKeyPair } from '../features/pki/pki-files.js';
import { newCertificateSerial } from '../features/pki/serial.js';
import { ES256_SIGNING, x509 } from '../features/pki/x509.js';
import type { SyncPki } from '../features/satellites/satellite-pki-port.js';
import type { IssuedCertificate } from '../features/satellites/sync-format.js';

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;

async function issueCa(o: {
  issuerCertPem: string;
  issuerKey: KeyObject;
  publicKeyPem: string;
  name: string;
  now: number;
  chainPems: string[];
  validityMs?: number;
}): Promise<IssuedCertificate> {
  const issuer = new x509.X509Certificate(o.issuerCertPem);
  const issuerKey = await webcrypto.subtle.importKey(
    'pkcs8',
    o.issuerKey.export({ format: 'der', type: 'pkcs8' }),
    EC,
    false,
    ['sign'],
  );
  const publicKey = await webcrypto.subtle.importKey(
    'spki',
    createPublicKey(o.publicKeyPem).export({ format: 'der', type: 'spki' }),
    EC,
    true,
    ['verify'],
  );
  const notAfter = Math.min(o.now + (o.validityMs ?? 365 * DAY), issuer.notAfter.getTime());
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: newCertificateSerial(),
    subject: `CN=smartlic satellite ${o.name}, O=smartlic`,
    issuer: issuer.subjectName,
    notBefore: toCertTime(o.now - BACKDATE_MS),
    notAfter: toCertTime(notAfter),
    publicKey: publicKey as never,
    signingKey: issuerKey as never,
    signingAlgorithm: ES256_SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
    ],
  });
  return { certificatePem: cert.toString('pem'), chainPems: o.chainPems, notAfter: toCertTime(notAfter).getTime() };
}

/**
 * A {@link SyncPki} for tests: on an authority (its root key issues satellite CAs, its signing
 * sub-CA signs responses), or an in-memory satellite (its own key; it may issue CAs for its
 * children once registered). `validityMs` shortens issued certificates (renewal tests).
 */
export function authorityTestSyncPki(dataDir: string, pki: AuthorityPki, validityMs?: number): SyncPki {
  const rootKey = readKeyPair(pkiPaths(dataDir).rootKey).privateKey;
  return {
    signer: () => ({ key: pki.signingKey, certificates: [pki.signingCertPem] }),
    rootCaPem: () => pki.rootCaPem,
    issueSatelliteCa: (o) =>
      issueCa({
        issuerCertPem: pki.rootCaPem,
        issuerKey: rootKey,
        publicKeyPem: o.publicKeyPem,
        name: o.satelliteName,
        now: o.now,
        chainPems: [],
        ...(validityMs ? { validityMs } : {}),
      }),
    satelliteKey: () => {
      throw new Error('an authority has no satellite key');
    },
    installSatelliteCertificate: async () => {
      throw new Error('an authority installs no satellite certificate');
    },
  };
}

/** An in-memory satellite's PKI; `installed` shows what the syncs installed. */
export function satelliteTestSyncPki(validityMs?: number): SyncPki & {
  installed: Array<{ certificatePem: string; chainPems: string[] }>;
} {
  const pair = generateKeyPair('ES256');
  const publicKeyPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const installed: Array<{ certificatePem: string; chainPems: string[] }> = [];
  let root = '';
  const current = () => {
    const last = installed.at(-1);
    if (!last) throw new Error('not registered');
    return last;
  };
  return {
    installed,
    signer: () => ({ key: pair.privateKey, certificates: [current().certificatePem, ...current().chainPems] }),
    rootCaPem: () => root,
    issueSatelliteCa: (o) =>
      issueCa({
        issuerCertPem: current().certificatePem,
        issuerKey: pair.privateKey,
        publicKeyPem: o.publicKeyPem,
        name: o.satelliteName,
        now: o.now,
        chainPems: [current().certificatePem, ...current().chainPems],
        ...(validityMs ? { validityMs } : {}),
      }),
    satelliteKey: () => ({ publicKeyPem, privateKey: pair.privateKey }),
    installSatelliteCertificate: async (o) => {
      root = o.rootCaPem;
      installed.push({ certificatePem: o.certificatePem, chainPems: o.chainPems });
    },
  };
}
