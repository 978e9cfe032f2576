import { createPublicKey, type KeyObject, X509Certificate as NodeX509Certificate, webcrypto } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { type Clock, DAY, generateKeyPair, type KeyPair, normalizeSerial, splitPemBundle } from '@smartlic/protocol';
import { writeFileAtomicSync } from '@smartlic/protocol/fs';
import type { Logger } from '../../logger.js';
import { type AuthorityPki, type LoadedSigning, runningPki, warnOfExpiry } from './authority-pki.js';
import { BACKDATE_MS, toCertTime } from './certificate-factory.js';
import {
  ensurePkiDir,
  type PkiPaths,
  pkiPaths,
  readKeyPair,
  readText,
  writeCertificate,
  writeKeyPair,
} from './pki-files.js';
import type { PkiHolder } from './pki-holder.js';
import { newCertificateSerial } from './serial.js';
import type { x509 } from './x509.js';
import { loadX509 } from './x509-loader.js';

/** Validity of a satellite's signing CA: one year (SPEC §8). */
export const SATELLITE_CA_VALIDITY_MS = 365 * DAY;
/** A satellite alarms this long before its signing certificate expires (SPEC §8). */
export const SATELLITE_CERT_ALARM_MS = 60 * DAY;
/** Most intermediates a chain may hold between a signing certificate and the root. */
export const MAX_CHAIN_LENGTH = 4;

/**
 * What can issue satellite signing CAs on this node: the authority, with its root key, or a
 * registered satellite (a middle one, serving satellites), with its own signing CA.
 */
export interface SatelliteCaIssuer {
  kind: 'authority' | 'satellite';
  /** The issuing certificate: the root on the authority, the signing CA on a satellite. */
  certificate: x509.X509Certificate;
  certificatePem: string;
  /** Its private key, for @peculiar/x509. */
  privateKey: webcrypto.CryptoKey;
  /** Its public key, for the authority key identifier of what it issues. */
  publicKey: webcrypto.CryptoKey;
  /** The issuer's own intermediates up to the root (root excluded; empty on the authority). */
  chainPems: string[];
}

/**
 * Creates, or reads, the key a satellite registers with and signs its sync messages with.
 * Before registration it is `<data>/pki/satellite-pending.key` (created here, mode 0600);
 * once a certificate is installed it is the signing key, which renewals keep, so the answer is
 * the same key for the satellite's whole life. Refused on an authority's data directory (one
 * holding the root key): an authority is not a satellite.
 */
export function ensureSatelliteKey(dataDir: string): { publicKeyPem: string; privateKey: KeyObject } {
  const paths = pkiPaths(dataDir);
  assertNotAuthority(paths);
  ensurePkiDir(paths);
  let pair: KeyPair;
  if (existsSync(paths.signingKey)) pair = readKeyPair(paths.signingKey);
  else if (existsSync(paths.pendingKey)) pair = readKeyPair(paths.pendingKey);
  else {
    pair = generateKeyPair('ES256');
    writeKeyPair(paths.pendingKey, pair);
  }
  return { publicKeyPem: publicKeyPem(pair.publicKey), privateKey: pair.privateKey };
}

/**
 * Issues a satellite's signing CA: `CN=smartlic satellite <name>, O=smartlic`, a CA without a
 * path length limit (so that it may issue its own satellites' CAs), for certificate and
 * response signing, valid one year from `now` but never past its issuer. The issuer is the
 * authority's root key on the authority, or a middle satellite's own signing CA. Returns the
 * certificate and the intermediates a device needs between it and the root (nearest first,
 * root excluded: empty under the authority; `[Sat1 CA]` for a satellite under Sat1).
 * Throws when the public key is not ECDSA P-256 or the issuer has expired.
 */
export async function issueSatelliteCa(o: {
  issuer: SatelliteCaIssuer;
  publicKeyPem: string;
  satelliteName: string;
  now: number;
  /** Validity from `now`; default (and at most) one year. Shorter for expiry drills and tests. */
  validityMs?: number;
}): Promise<{ certificatePem: string; chainPems: string[]; notAfter: number }> {
  await x509Module();
  const { issuer, now } = o;
  const issuerNotAfter = issuer.certificate.notAfter.getTime();
  if (issuerNotAfter <= now) {
    throw new Error('The issuing certificate has expired: it cannot issue a satellite certificate.');
  }
  const publicKey = await importP256PublicKey(o.publicKeyPem);
  const validity = Math.min(o.validityMs ?? SATELLITE_CA_VALIDITY_MS, SATELLITE_CA_VALIDITY_MS);
  if (!(validity > 0)) throw new Error('The validity of a satellite certificate must be positive.');
  const notAfter = toCertTime(Math.min(now + validity, issuerNotAfter)).getTime();
  const cert = await px().X509CertificateGenerator.create({
    serialNumber: newCertificateSerial(),
    subject: [{ CN: [`smartlic satellite ${o.satelliteName}`] }, { O: ['smartlic'] }],
    issuer: issuer.certificate.subjectName,
    notBefore: toCertTime(now - BACKDATE_MS),
    notAfter: new Date(notAfter),
    publicKey: publicKey as never,
    signingKey: issuer.privateKey as never,
    signingAlgorithm: (await x509Module()).ES256_SIGNING,
    extensions: [
      new (px().BasicConstraintsExtension)(true, undefined, true),
      new (px().KeyUsagesExtension)(
        px().KeyUsageFlags.keyCertSign | px().KeyUsageFlags.cRLSign | px().KeyUsageFlags.digitalSignature,
        true,
      ),
      await px().SubjectKeyIdentifierExtension.create(publicKey as never),
      await px().AuthorityKeyIdentifierExtension.create(issuer.publicKey as never),
    ],
  });
  const chainPems = issuer.kind === 'authority' ? [] : [issuer.certificatePem.trim(), ...issuer.chainPems];
  if (chainPems.length > MAX_CHAIN_LENGTH) {
    throw new Error(`Satellites may be chained at most ${MAX_CHAIN_LENGTH + 1} levels below the authority.`);
  }
  return { certificatePem: cert.toString('pem'), chainPems, notAfter };
}

/**
 * What can issue satellite CAs on the node of `dataDir`: the authority when its root key is
 * present, a registered satellite (its signing CA and chain) otherwise. Throws one sentence when
 * neither: an authority whose root key is kept offline, or a satellite not registered yet.
 */
export async function satelliteCaIssuer(dataDir: string): Promise<SatelliteCaIssuer> {
  await x509Module();
  const paths = pkiPaths(dataDir);
  if (existsSync(paths.rootKey) && existsSync(paths.rootCert)) {
    return issuerOf('authority', paths.rootCert, paths.rootKey, []);
  }
  if (existsSync(paths.chain) && existsSync(paths.signingCert) && existsSync(paths.signingKey)) {
    return issuerOf('satellite', paths.signingCert, paths.signingKey, readChain(paths));
  }
  if (existsSync(paths.rootCert) && !existsSync(paths.chain)) {
    throw new Error(
      `Cannot issue satellite certificates: the root key ${paths.rootKey} is missing. Put it back (it may be kept offline) to register satellites.`,
    );
  }
  throw new Error('Cannot issue satellite certificates: this satellite is not registered yet.');
}

/**
 * Installs the signing certificate a sync brought (registration or renewal) and makes the
 * running server use it at once, without a restart. Checks first (changing nothing when a
 * check fails): not an authority's data directory; the certificate is a CA for this satellite's
 * key (`ensureSatelliteKey`); it chains through `chainPems` to `rootCaPem` by signature; a
 * registered satellite keeps its root. Then writes atomically, key before certificate, so a
 * crash part-way leaves either the old state or one the next start completes: `root-ca.pem`,
 * `chain.pem`, `signing.key` (from the pending key), `signing.pem`; removes the pending key;
 * and, given the running server's `pki` holder, swaps the PKI in it.
 */
export async function installSatelliteCertificate(
  dataDir: string,
  o: { rootCaPem: string; certificatePem: string; chainPems: string[]; pki?: PkiHolder },
): Promise<void> {
  await x509Module();
  const paths = pkiPaths(dataDir);
  assertNotAuthority(paths);
  ensurePkiDir(paths);
  const cert = parseGiven('certificate', o.certificatePem);
  const root = parseGiven('root certificate', o.rootCaPem);
  const chain = o.chainPems.map((pem) => parseGiven('chain certificate', pem));
  const pair = keyFor(paths, cert);
  if (!(await isCa(cert))) throw new Error('The satellite certificate is not a CA certificate.');
  const problem = await chainProblem(cert, chain, root);
  if (problem) throw new Error(`The satellite certificate does not chain to the root: ${problem}.`);
  if (existsSync(paths.signingCert) && existsSync(paths.rootCert)) {
    const held = parseCertificateFile(paths.rootCert, readText(paths.rootCert));
    if (!Buffer.from(held.rawData).equals(Buffer.from(root.rawData))) {
      throw new Error('The certificate is under another root than this satellite was registered with.');
    }
  }
  keepPreviousSigning(paths, cert);
  writeCertificate(paths.rootCert, o.rootCaPem.trim());
  writeFileAtomicSync(paths.chain, o.chainPems.map((pem) => `${pem.trim()}\n`).join(''), 0o644);
  if (!existsSync(paths.signingKey)) writeKeyPair(paths.signingKey, pair);
  writeCertificate(paths.signingCert, o.certificatePem.trim());
  rmSync(paths.pendingKey, { force: true });
  if (o.pki) {
    const loaded = await loadSatellitePki({ dataDir });
    if (loaded) o.pki.replace(loaded);
  }
}

/**
 * Loads a satellite's PKI from `<data>/pki/`, or `null` when it is not registered yet (no
 * signing certificate). Never creates a root or a signing certificate: a satellite gets them
 * only from its upstream. Checks that the files belong together (key, chain to the root by
 * signature); an expired certificate still loads — devices then get seed 003 #6 — and is logged
 * at ERROR, one within 60 days of expiry at WARN.
 */
export async function loadSatellitePki(options: {
  dataDir: string;
  clock?: Clock;
  logger?: Logger;
}): Promise<AuthorityPki | null> {
  await x509Module();
  const paths = pkiPaths(options.dataDir);
  if (!existsSync(paths.signingCert) || !existsSync(paths.signingKey)) return null;
  if (!existsSync(paths.rootCert)) {
    throw new Error(`The PKI in ${paths.dir} is incomplete: root-ca.pem is missing. Register the satellite again.`);
  }
  const rootPem = readText(paths.rootCert);
  const root = parseCertificateFile(paths.rootCert, rootPem);
  const pem = readText(paths.signingCert);
  const cert = parseCertificateFile(paths.signingCert, pem);
  const pair = readKeyPair(paths.signingKey);
  assertKeyMatches(cert, pair, paths.signingKey, paths.signingCert);
  const chainPems = readChain(paths);
  const problem = await chainProblem(
    cert,
    chainPems.map((c) => parseCertificateFile(paths.chain, c)),
    root,
  );
  if (problem) throw new Error(`${paths.signingCert} does not chain to ${paths.rootCert}: ${problem}.`);
  const nodeCert = new NodeX509Certificate(pem);
  const signing: LoadedSigning = {
    pem,
    cert: nodeCert,
    pair,
    serial: normalizeSerial(nodeCert.serialNumber),
    notAfter: Date.parse(nodeCert.validTo),
  };
  if (options.clock) warnOfExpiry(signing, options.clock.now(), SATELLITE_CERT_ALARM_MS, options.logger);
  const spki = pair.publicKey.export({ type: 'spki', format: 'der' });
  const previousSigningSerials = readPrevious(paths)
    .map((p) => new (px().X509Certificate)(p))
    .filter((c) => Buffer.from(c.publicKey.rawData).equals(spki))
    .map((c) => normalizeSerial(c.serialNumber))
    .filter((serial) => serial !== signing.serial);
  return runningPki(paths, { kind: 'satellite', rootCaPem: rootPem, chainPems, previousSigningSerials }, signing);
}

/** Most earlier signing certificates kept (a device renews its ID certificate within a year). */
const PREVIOUS_KEPT = 3;

/**
 * Before a renewal replaces `signing.pem`: keeps the certificate it replaces (same key) in
 * `previous-signing.pem`, so devices that still name its serial are answered after a restart too.
 */
function keepPreviousSigning(paths: PkiPaths, next: x509.X509Certificate): void {
  if (!existsSync(paths.signingCert)) return;
  const currentPem = readText(paths.signingCert);
  const current = parseCertificateFile(paths.signingCert, currentPem);
  if (current.serialNumber === next.serialNumber) return;
  if (!Buffer.from(current.publicKey.rawData).equals(Buffer.from(next.publicKey.rawData))) return;
  const kept = [currentPem.trim(), ...readPrevious(paths)].slice(0, PREVIOUS_KEPT);
  writeFileAtomicSync(paths.previousSigning, kept.map((pem) => `${pem.trim()}\n`).join(''), 0o644);
}

function readPrevious(paths: PkiPaths): string[] {
  return existsSync(paths.previousSigning) ? splitPemBundle(readText(paths.previousSigning)) : [];
}

function assertNotAuthority(paths: PkiPaths): void {
  if (existsSync(paths.rootKey)) {
    throw new Error(`${paths.dir} holds an authority's root key: an authority cannot be registered as a satellite.`);
  }
}

function readChain(paths: PkiPaths): string[] {
  return existsSync(paths.chain) ? splitPemBundle(readText(paths.chain)) : [];
}

async function issuerOf(
  kind: SatelliteCaIssuer['kind'],
  certPath: string,
  keyPath: string,
  chainPems: string[],
): Promise<SatelliteCaIssuer> {
  const certificatePem = readText(certPath);
  const certificate = parseCertificateFile(certPath, certificatePem);
  const pair = readKeyPair(keyPath);
  assertKeyMatches(certificate, pair, keyPath, certPath);
  const alg = { name: 'ECDSA', namedCurve: 'P-256' };
  const privateKey = await webcrypto.subtle.importKey(
    'pkcs8',
    pair.privateKey.export({ type: 'pkcs8', format: 'der' }),
    alg,
    true,
    ['sign'],
  );
  const publicKey = await webcrypto.subtle.importKey(
    'spki',
    pair.publicKey.export({ type: 'spki', format: 'der' }),
    alg,
    true,
    ['verify'],
  );
  return { kind, certificate, certificatePem, privateKey, publicKey, chainPems };
}

function publicKeyPem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

async function importP256PublicKey(pem: string): Promise<webcrypto.CryptoKey> {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (cause) {
    throw new Error('The satellite public key is not a readable PEM public key.', { cause });
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error('The satellite public key must be ECDSA P-256.');
  }
  const der = key.export({ type: 'spki', format: 'der' });
  return webcrypto.subtle.importKey('spki', der, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']);
}

function parseGiven(what: string, pem: string): x509.X509Certificate {
  try {
    return new (px().X509Certificate)(pem);
  } catch (cause) {
    throw new Error(`The ${what} is not a readable PEM certificate.`, { cause });
  }
}

/** The satellite key the certificate certifies: the signing key (renewal) or the pending key (registration). */
function keyFor(paths: PkiPaths, cert: x509.X509Certificate): KeyPair {
  const certified = Buffer.from(cert.publicKey.rawData);
  for (const path of [paths.signingKey, paths.pendingKey]) {
    if (!existsSync(path)) continue;
    const pair = readKeyPair(path);
    if (certified.equals(pair.publicKey.export({ type: 'spki', format: 'der' }))) return pair;
  }
  throw new Error("The certificate is not for this satellite's key: it was issued to another satellite.");
}

async function isCa(cert: x509.X509Certificate): Promise<boolean> {
  return cert.getExtension(px().BasicConstraintsExtension)?.ca === true;
}

/** Why `cert` does not chain by signature through `chain` (nearest first) to `root`, or undefined. */
async function chainProblem(
  cert: x509.X509Certificate,
  chain: x509.X509Certificate[],
  root: x509.X509Certificate,
): Promise<string | undefined> {
  if (chain.length > MAX_CHAIN_LENGTH) return `more than ${MAX_CHAIN_LENGTH} intermediates`;
  const path = [cert, ...chain, root];
  for (let i = 0; i + 1 < path.length; i++) {
    const child = path[i]!;
    const parent = path[i + 1]!;
    if (i > 0 && !(await isCa(child))) return `intermediate ${i} is not a CA`;
    const signed = await child.verify({ publicKey: parent.publicKey, signatureOnly: true });
    if (!signed || child.issuer !== parent.subject) {
      return i + 1 === path.length - 1 ? 'the last certificate is not issued by the root' : `link ${i + 1} is broken`;
    }
  }
  return undefined;
}

/** @peculiar/x509, loaded by the exported functions that need it: it stays out of an authority's start-up. */
let peculiar: typeof import('./x509.js') | undefined;

async function x509Module(): Promise<typeof import('./x509.js')> {
  peculiar ??= await loadX509();
  return peculiar;
}

/** The loaded @peculiar/x509, for the helpers the exported functions call after `x509Module()`. */
function px(): typeof x509 {
  if (!peculiar) throw new Error('@peculiar/x509 is used before it was loaded.');
  return peculiar.x509;
}

function parseCertificateFile(path: string, pem: string): x509.X509Certificate {
  try {
    return new (px().X509Certificate)(pem);
  } catch (cause) {
    throw new Error(`${path} is not a readable PEM certificate.`, { cause });
  }
}

function assertKeyMatches(cert: x509.X509Certificate, pair: KeyPair, keyPath: string, certPath: string): void {
  const fromKey = pair.publicKey.export({ type: 'spki', format: 'der' });
  if (!Buffer.from(cert.publicKey.rawData).equals(fromKey)) {
    throw new Error(`${keyPath} is not the key of ${certPath}: the PKI files do not belong together.`);
  }
}
