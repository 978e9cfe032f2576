import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { DAY, generateKeyPair, type KeyPair, keyPairFromPem, toWebKeys } from '@smartlic/protocol';
import type { Logger } from '../../logger.js';
import type { AuthorityPki } from './authority-pki.js';
import { BACKDATE_MS, toCertTime } from './certificate-factory.js';
import { writeCertificate, writeKeyPair } from './pki-files.js';
import { newCertificateSerial } from './serial.js';
import { loadX509 } from './x509-loader.js';

/** Validity of an issued TLS certificate: one year. */
export const TLS_VALIDITY_MS = 365 * DAY;
/** An issued TLS certificate is replaced this long before it expires. */
export const TLS_RENEW_BEFORE_MS = 30 * DAY;

/** What the HTTPS server is given: the certificate chain and its key, PEM. */
export interface TlsMaterial {
  cert: string;
  key: string;
}

/** Why the TLS certificate cannot be used, as one sentence (start-up stops with it). */
export class TlsSetupError extends Error {
  override readonly name = 'TlsSetupError';
}

/**
 * The operator's certificate (chain) and key: both must be readable PEM and belong together.
 * Every failure is one sentence naming the file.
 */
export function loadTlsFiles(certFile: string, keyFile: string): TlsMaterial {
  const cert = readPem(certFile, 'TLS certificate');
  const key = readPem(keyFile, 'TLS private key');
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch {
    throw new TlsSetupError(`The TLS certificate ${certFile} is not a PEM certificate.`);
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new TlsSetupError(`The TLS private key ${keyFile} is not a PEM private key (or it is encrypted).`);
  }
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new TlsSetupError(`The TLS private key ${keyFile} does not belong to the certificate ${certFile}.`);
  }
  try {
    createSecureContext({ cert, key });
  } catch (cause) {
    throw new TlsSetupError(`The TLS certificate ${certFile} cannot be used: ${(cause as Error).message}.`, { cause });
  }
  return { cert, key };
}

/**
 * The names `--tls auto` puts in the certificate: the listening host (the machine's name
 * instead of a wildcard address), localhost, 127.0.0.1, ::1, and the extra names, deduplicated.
 */
export function tlsNames(host: string, extra: readonly string[]): string[] {
  const wildcard = host === '0.0.0.0' || host === '::' || host === '';
  const names = [wildcard ? hostname() : host, 'localhost', '127.0.0.1', '::1', ...extra];
  return [
    ...new Set(
      names
        .map((n) =>
          n
            .trim()
            .replace(/^\[(.*)\]$/, '$1')
            .toLowerCase(),
        )
        .filter(Boolean),
    ),
  ];
}

/**
 * `--tls auto`: a server certificate for `names` issued by the authority's signing
 * certificate, so that anything trusting the root CA trusts the server. Kept as
 * `<data>/pki/tls-cert.pem` (the certificate, then the signing certificate) and
 * `<data>/pki/tls-key.pem` (mode 0600); issued again when the names change, when it expires
 * within {@link TLS_RENEW_BEFORE_MS}, or when it is not the signing certificate's.
 */
export async function ensureTlsCertificate(options: {
  dataDir: string;
  pki: AuthorityPki;
  names: readonly string[];
  now: number;
  logger?: Logger;
}): Promise<TlsMaterial & { certPath: string; issued: boolean }> {
  const { pki, names, now } = options;
  const certPath = join(options.dataDir, 'pki', 'tls-cert.pem');
  const keyPath = join(options.dataDir, 'pki', 'tls-key.pem');
  const current = readCurrent(certPath, keyPath);
  const reason = current ? staleReason(current, pki, names, now) : 'none yet';
  if (current && reason === undefined) return { ...current.material, certPath, issued: false };

  const pair = generateKeyPair('ES256');
  const leaf = await issueTlsCertificate(pki, pair, names, now);
  writeKeyPair(keyPath, pair);
  const chain = [pki.signingCertPem, ...pki.chainPems].map((pem) => `${pem.trim()}\n`).join('');
  writeCertificate(certPath, `${leaf.toString('pem')}\n${chain}`);
  options.logger?.info({ names, path: certPath, reason }, 'Issued the TLS certificate');
  const issued = readCurrent(certPath, keyPath);
  if (!issued) throw new TlsSetupError(`Cannot read back the TLS certificate ${certPath}.`);
  return { ...issued.material, certPath, issued: true };
}

async function issueTlsCertificate(
  pki: AuthorityPki,
  pair: KeyPair,
  names: readonly string[],
  now: number,
): Promise<{ toString(format: 'pem'): string }> {
  const { x509, ES256_SIGNING } = await loadX509();
  const signing = new x509.X509Certificate(pki.signingCertPem);
  const publicKey = (await toWebKeys(pair)).publicKey;
  return x509.X509CertificateGenerator.create({
    serialNumber: newCertificateSerial(),
    subject: [{ CN: [names[0] ?? 'localhost'] }, { O: ['smartlic'] }],
    issuer: signing.subjectName,
    notBefore: toCertTime(now - BACKDATE_MS),
    notAfter: toCertTime(Math.min(now + TLS_VALIDITY_MS, pki.signingNotAfter)),
    publicKey: publicKey as never,
    signingKey: pki.signingWebKey as never,
    signingAlgorithm: ES256_SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(
        names.map((n) => (isIP(n) ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n })),
      ),
      await x509.SubjectKeyIdentifierExtension.create(publicKey as never),
      await x509.AuthorityKeyIdentifierExtension.create(signing.publicKey),
    ],
  });
}

interface Current {
  material: TlsMaterial;
  leaf: X509Certificate;
}

/** The kept certificate and key, or undefined when missing or unreadable (then issued again). */
function readCurrent(certPath: string, keyPath: string): Current | undefined {
  if (!existsSync(certPath) || !existsSync(keyPath)) return undefined;
  try {
    const cert = readFileSync(certPath, 'utf8');
    const key = readFileSync(keyPath, 'utf8');
    const leaf = new X509Certificate(cert);
    if (!leaf.checkPrivateKey(keyPairFromPem(key).privateKey)) return undefined;
    return { material: { cert, key }, leaf };
  } catch {
    return undefined;
  }
}

/** Why the kept certificate must be replaced, or undefined if it can stay. */
function staleReason(current: Current, pki: AuthorityPki, names: readonly string[], now: number): string | undefined {
  const signing = new X509Certificate(pki.signingCertPem);
  if (!current.leaf.checkIssued(signing) || !current.leaf.verify(signing.publicKey)) return 'new signing certificate';
  if (Date.parse(current.leaf.validTo) - now < TLS_RENEW_BEFORE_MS) return 'expires soon';
  const held = sanOf(current.leaf);
  const wanted = [...names].map(normalizeName).sort();
  if (held.length !== wanted.length || held.some((n, i) => n !== wanted[i])) return 'names changed';
  return undefined;
}

function sanOf(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(', ')
    .filter(Boolean)
    .map((entry) => normalizeName(entry.replace(/^(DNS|IP Address):/, '')))
    .sort();
}

/** IPv6 addresses in one spelling (`0:0:…:1` → `::1`), names in lower case. */
function normalizeName(name: string): string {
  if (isIP(name) === 6) return new URL(`http://[${name}]/`).hostname.slice(1, -1);
  return name.toLowerCase();
}

function readPem(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable' : 'cannot be read';
    throw new TlsSetupError(`The ${what} ${path} ${why}.`, { cause });
  }
  if (!text.includes('-----BEGIN ')) throw new TlsSetupError(`The ${what} ${path} is not a PEM file.`);
  return text;
}
