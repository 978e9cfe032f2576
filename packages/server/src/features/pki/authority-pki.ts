import { type KeyObject, type webcrypto, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  algorithmOfKey,
  type Clock,
  DAY,
  generateKeyPair,
  type KeyPair,
  normalizeSerial,
  type SignatureAlgorithm,
  toWebKeys,
} from '@smartlic/protocol';
import type { Logger } from '../../logger.js';
import { createRootCertificate, createSigningCertificate } from './certificate-factory.js';
import { type IdCertificateTemplate, idCertificateTemplate } from './der-template.js';
import {
  ensurePkiDir,
  type PkiPaths,
  pkiPaths,
  readKeyPair,
  readText,
  writeCertificate,
  writeKeyPair,
} from './pki-files.js';
import { loadX509 } from './x509-loader.js';

/**
 * The PKI a running server signs with: the authority's (root and signing sub-CA) or a registered
 * satellite's (the authority's root, the satellite's signing CA and the intermediates between
 * them). Held in a {@link PkiHolder} so that a satellite can swap it without a restart.
 */
export interface AuthorityPki {
  /**
   * `authority`: the authority's sub-CA (3 years); `satellite`: a satellite's signing CA (1 year,
   * renewed by syncs with the same key and name, so ID certificates are not cut to its expiry).
   */
  kind: 'authority' | 'satellite';
  /**
   * Serials of earlier certificates of the same signing key (a satellite's renewals): devices
   * that still name one are answered, with the current certificate as the envelope's `signer`.
   */
  previousSigningSerials: string[];
  rootCaPem: string;
  rootCaPath: string;
  /**
   * The intermediates between the signing certificate and the root, nearest the signer first,
   * root excluded: empty on the authority and on a satellite directly under it.
   */
  chainPems: string[];
  signingCertPem: string;
  signingCertSerial: string;
  signingNotAfter: number;
  /** Signs device responses. */
  signingKey: KeyObject;
  /** The algorithm of `signingKey` (ES256). */
  signingAlg: SignatureAlgorithm;
  /** The same key for @peculiar/x509 (the reference path ID certificates are tested against). */
  signingWebKey: webcrypto.CryptoKey;
  /** What every ID certificate of this signing certificate shares (ADR 0008). */
  idCertTemplate: IdCertificateTemplate;
}

/** Warn this long before the signing certificate expires. */
const EXPIRY_WARNING_MS = 90 * DAY;

/**
 * Loads the PKI of `<data>/pki/`, creating what is missing: on the first start a root CA
 * (ECDSA P-256, 20 years) and a signing sub-CA (3 years). Private keys are written
 * atomically with mode 0600, each before its certificate, so a crash part-way leaves a
 * state the next start completes. A state that cannot be completed safely (a signing
 * certificate without its root) stops the start with an explanation.
 */
export async function loadOrCreatePki(options: {
  dataDir: string;
  clock: Clock;
  logger?: Logger;
}): Promise<AuthorityPki> {
  const { clock, logger } = options;
  const paths = pkiPaths(options.dataDir);
  ensurePkiDir(paths);
  const root = await loadOrCreateRoot(paths, clock, logger);
  const signing = await loadOrCreateSigning(paths, root, clock, logger);
  warnOfExpiry(signing, clock.now(), EXPIRY_WARNING_MS, logger);
  return runningPki(
    paths,
    { kind: 'authority', rootCaPem: root.pem, chainPems: [], previousSigningSerials: [] },
    signing,
  );
}

/** Logs an expired signing certificate at ERROR and one expiring within `warnMs` at WARN. */
export function warnOfExpiry(
  signing: { serial: string; notAfter: number },
  now: number,
  warnMs: number,
  logger: Logger | undefined,
): void {
  const facts = { serial: signing.serial, notAfter: new Date(signing.notAfter).toISOString() };
  if (signing.notAfter <= now) {
    logger?.error(
      facts,
      'The signing certificate has expired: devices will refuse every response until it is replaced',
    );
  } else if (signing.notAfter - now < warnMs) {
    const days = Math.ceil((signing.notAfter - now) / DAY);
    logger?.warn({ ...facts, days }, `The signing certificate expires in ${days} days`);
  }
}

/** The running form of a loaded signing certificate and key (an ES256 key is required). */
export async function runningPki(
  paths: PkiPaths,
  o: Pick<AuthorityPki, 'kind' | 'rootCaPem' | 'chainPems' | 'previousSigningSerials'>,
  signing: LoadedSigning,
): Promise<AuthorityPki> {
  const signingAlg = algorithmOfKey(signing.pair.privateKey);
  if (signingAlg !== 'ES256') {
    throw new Error(`${paths.signingKey} is an ${signingAlg} key; the signing key must be ECDSA P-256 (ES256).`);
  }
  return {
    ...o,
    rootCaPath: paths.rootCert,
    signingCertPem: signing.pem,
    signingCertSerial: signing.serial,
    signingNotAfter: signing.notAfter,
    signingKey: signing.pair.privateKey,
    signingAlg,
    signingWebKey: (await toWebKeys(signing.pair)).privateKey,
    idCertTemplate: idCertificateTemplate(signing.cert.raw),
  };
}

/*
 * Certificates are read with node:crypto; @peculiar/x509 is loaded only to create them (the
 * first start), which keeps it out of every later start.
 */
interface LoadedRoot {
  pem: string;
  cert: X509Certificate;
  /** Absent when the operator keeps the root key offline; then no new signing certificate can be made. */
  pair: KeyPair | null;
}

/** A signing certificate read from its files, with its key. */
export interface LoadedSigning {
  pem: string;
  cert: X509Certificate;
  pair: KeyPair;
  serial: string;
  notAfter: number;
}

async function loadOrCreateRoot(paths: PkiPaths, clock: Clock, logger?: Logger): Promise<LoadedRoot> {
  if (existsSync(paths.rootCert)) {
    const pem = readText(paths.rootCert);
    const cert = parseCertificateFile(paths.rootCert, pem);
    const pair = existsSync(paths.rootKey) ? readKeyPair(paths.rootKey) : null;
    if (pair) assertKeyMatches(cert, pair, paths.rootKey, paths.rootCert);
    return { pem, cert, pair };
  }
  if (existsSync(paths.signingCert) || existsSync(paths.signingKey)) {
    throw new Error(
      `The PKI in ${paths.dir} is incomplete: a signing certificate exists but root-ca.pem is missing. ` +
        'Restore root-ca.pem and root-ca.key from a backup, or remove the pki directory to create a new authority ' +
        '(every registered device would then have to register again).',
    );
  }
  // First start (or a first start that stopped after writing only the key): create the root.
  const pair = generateKeyPair('ES256');
  const cert = await createRootCertificate(await toWebKeys(pair), clock.now());
  const pem = cert.toString('pem');
  writeKeyPair(paths.rootKey, pair);
  writeCertificate(paths.rootCert, pem);
  logger?.info({ serial: normalizeSerial(cert.serialNumber), path: paths.rootCert }, 'Created the root CA');
  const written = readText(paths.rootCert);
  return { pem: written, cert: new X509Certificate(written), pair };
}

async function loadOrCreateSigning(
  paths: PkiPaths,
  root: LoadedRoot,
  clock: Clock,
  logger?: Logger,
): Promise<LoadedSigning> {
  if (existsSync(paths.signingCert) && existsSync(paths.signingKey)) {
    const pem = readText(paths.signingCert);
    const cert = parseCertificateFile(paths.signingCert, pem);
    const pair = readKeyPair(paths.signingKey);
    assertKeyMatches(cert, pair, paths.signingKey, paths.signingCert);
    if (!cert.verify(root.cert.publicKey)) {
      throw new Error(`${paths.signingCert} is not signed by ${paths.rootCert}: the PKI files do not belong together.`);
    }
    return { pem, cert, pair, serial: normalizeSerial(cert.serialNumber), notAfter: Date.parse(cert.validTo) };
  }
  if (!root.pair) {
    throw new Error(
      `Cannot create a signing certificate: ${paths.rootKey} is missing. Put the root key back to let the server issue one.`,
    );
  }
  if (existsSync(paths.signingCert) || existsSync(paths.signingKey)) {
    logger?.warn({ dir: paths.dir }, 'Half-written signing certificate found; issuing a new one');
  }
  const pair = generateKeyPair('ES256');
  const { x509 } = await loadX509();
  const created = await createSigningCertificate(
    new x509.X509Certificate(root.pem),
    await toWebKeys(root.pair),
    (await toWebKeys(pair)).publicKey,
    clock.now(),
  );
  writeKeyPair(paths.signingKey, pair);
  writeCertificate(paths.signingCert, created.toString('pem'));
  const serial = normalizeSerial(created.serialNumber);
  logger?.info({ serial, path: paths.signingCert }, 'Created the signing certificate');
  const pem = readText(paths.signingCert);
  return { pem, cert: new X509Certificate(pem), pair, serial, notAfter: created.notAfter.getTime() };
}

export function parseCertificateFile(path: string, pem: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (cause) {
    throw new Error(`${path} is not a readable PEM certificate.`, { cause });
  }
}

export function assertKeyMatches(cert: X509Certificate, pair: KeyPair, keyPath: string, certPath: string): void {
  const fromKey = pair.publicKey.export({ type: 'spki', format: 'der' });
  if (!cert.publicKey.export({ type: 'spki', format: 'der' }).equals(fromKey)) {
    throw new Error(`${keyPath} is not the key of ${certPath}: the PKI files do not belong together.`);
  }
}
