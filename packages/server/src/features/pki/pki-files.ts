import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type KeyPair, keyPairFromPem, privateKeyToPem } from '@smartlic/protocol';
import { writeFileAtomicSync } from '@smartlic/protocol/fs';

/** Where the authority keeps its PKI, under `<data>/pki/`. */
export interface PkiPaths {
  dir: string;
  rootCert: string;
  rootKey: string;
  signingCert: string;
  signingKey: string;
}

export function pkiPaths(dataDir: string): PkiPaths {
  const dir = join(dataDir, 'pki');
  return {
    dir,
    rootCert: join(dir, 'root-ca.pem'),
    rootKey: join(dir, 'root-ca.key'),
    signingCert: join(dir, 'signing.pem'),
    signingKey: join(dir, 'signing.key'),
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
