import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type KeyPair, keyPairFromPem, privateKeyToPem } from '@smartlic/protocol';
import { writeFileAtomicSync } from '@smartlic/protocol/fs';

/** Where a node keeps its PKI, under `<data>/pki/`. */
export interface PkiPaths {
  dir: string;
  /** The authority's root certificate (on a satellite too: its trust anchor). */
  rootCert: string;
  /** The root key: on the authority only (absent when kept offline; never on a satellite). */
  rootKey: string;
  /** The signing certificate: the authority's sub-CA, or a satellite's signing CA. */
  signingCert: string;
  signingKey: string;
  /** A satellite's intermediates between its signing certificate and the root (PEM bundle, may be empty). */
  chain: string;
  /** The key a satellite registers with, until its first certificate is installed. */
  pendingKey: string;
  /** A satellite's earlier signing certificates of the same key (renewals), newest first, at most three. */
  previousSigning: string;
}

export function pkiPaths(dataDir: string): PkiPaths {
  const dir = join(dataDir, 'pki');
  return {
    dir,
    rootCert: join(dir, 'root-ca.pem'),
    rootKey: join(dir, 'root-ca.key'),
    signingCert: join(dir, 'signing.pem'),
    signingKey: join(dir, 'signing.key'),
    chain: join(dir, 'chain.pem'),
    pendingKey: join(dir, 'satellite-pending.key'),
    previousSigning: join(dir, 'previous-signing.pem'),
  };
}

/** Creates the PKI directory (mode 0700) if missing. */
export function ensurePkiDir(paths: PkiPaths): void {
  if (existsSync(paths.dir)) return;
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  chmodSync(paths.dir, 0o700);
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

/** Reads a PKCS#8 private key file; the error names the file. */
export function readKeyPair(path: string): KeyPair {
  try {
    return keyPairFromPem(readText(path));
  } catch (cause) {
    throw new Error(`Cannot read the private key ${path}: ${(cause as Error).message}`, { cause });
  }
}

/** Writes a private key atomically with mode 0600. */
export function writeKeyPair(path: string, pair: KeyPair): void {
  writeFileAtomicSync(path, privateKeyToPem(pair.privateKey), 0o600);
}

/** Writes a certificate atomically (public, mode 0644). */
export function writeCertificate(path: string, pem: string): void {
  writeFileAtomicSync(path, pem.endsWith('\n') ? pem : `${pem}\n`, 0o644);
}
