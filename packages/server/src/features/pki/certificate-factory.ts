import type { webcrypto } from 'node:crypto';
import { DAY, HOUR } from '@smartlic/protocol';
import { newCertificateSerial } from './serial.js';
import type { x509 } from './x509.js';
// Type-only: @peculiar/x509 costs a second of start-up to load, and a server that already has
// its PKI needs none of it (loading the PKI uses node:crypto); `loadX509` loads it on first use.
import { loadX509 } from './x509-loader.js';

type WebKeyPair = { privateKey: webcrypto.CryptoKey; publicKey: webcrypto.CryptoKey };

/** Validity of the root CA: 20 years. */
export const ROOT_VALIDITY_MS = 20 * 365 * DAY;
/** Validity of the signing (sub-CA) certificate: 3 years. */
export const SIGNING_VALIDITY_MS = 3 * 365 * DAY;
/** Certificates start this long before their issue time, so a device whose clock is a little behind accepts them. */
export const BACKDATE_MS = HOUR;

export const ROOT_SUBJECT = 'CN=smartlic root CA, O=smartlic';
export const SIGNING_SUBJECT = 'CN=smartlic authority signing, O=smartlic';

/** X.509 times carry whole seconds; every time we put in a certificate is rounded down to one. */
export function toCertTime(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}

/** The self-signed root CA of an authority. */
export async function createRootCertificate(keys: WebKeyPair, now: number): Promise<x509.X509Certificate> {
  const { x509, ES256_SIGNING } = await loadX509();
  return x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: newCertificateSerial(),
    name: ROOT_SUBJECT,
    notBefore: toCertTime(now - BACKDATE_MS),
    notAfter: toCertTime(now + ROOT_VALIDITY_MS),
    keys: keys as never,
    signingAlgorithm: ES256_SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as never),
    ],
  });
}

/** The signing certificate: a sub-CA (pathLen 0) signed by the root; it signs responses and ID certificates. */
export async function createSigningCertificate(
  root: x509.X509Certificate,
  rootKeys: WebKeyPair,
  signingPublicKey: webcrypto.CryptoKey,
  now: number,
): Promise<x509.X509Certificate> {
  const { x509, ES256_SIGNING } = await loadX509();
  const notAfter = Math.min(now + SIGNING_VALIDITY_MS, root.notAfter.getTime());
  return x509.X509CertificateGenerator.create({
    serialNumber: newCertificateSerial(),
    subject: SIGNING_SUBJECT,
    issuer: root.subjectName,
    notBefore: toCertTime(now - BACKDATE_MS),
    notAfter: toCertTime(notAfter),
    publicKey: signingPublicKey as never,
    signingKey: rootKeys.privateKey as never,
    signingAlgorithm: ES256_SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(signingPublicKey as never),
      await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey as never),
    ],
  });
}

/** What goes into a device's ID certificate (SPEC §3). */
export interface IdCertificateRequest {
  instanceId: string;
  pid: string;
  sn: string;
  /** The Smart Account's domain; carried as the subject's O attribute. */
  domain: string;
  /** The device's public key, from its CSR. */
  publicKey: x509.PublicKey;
  notBefore: number;
  notAfter: number;
}

/**
 * An ID certificate: subject `CN=<instance id>, serialNumber=PID:<pid> SN:<sn>, O=<domain>`,
 * not a CA, for digital signatures and client authentication, signed by the signing key.
 * The server issues them from the DER template (`issueIdCertificate`, ADR 0008); this
 * @peculiar/x509 version is the reference the template is tested against, field for field.
 */
export async function createIdCertificate(
  request: IdCertificateRequest,
  issuer: x509.X509Certificate,
  issuerKey: webcrypto.CryptoKey,
): Promise<x509.X509Certificate> {
  const { x509, ES256_SIGNING } = await loadX509();
  return x509.X509CertificateGenerator.create({
    serialNumber: newCertificateSerial(),
    // JSON form, so that PID, SN and domain need no escaping; 2.5.4.5 is the serialNumber attribute.
    subject: [
      { CN: [request.instanceId] },
      { '2.5.4.5': [`PID:${request.pid} SN:${request.sn}`] },
      { O: [request.domain] },
    ],
    issuer: issuer.subjectName,
    notBefore: toCertTime(request.notBefore),
    notAfter: toCertTime(request.notAfter),
    publicKey: request.publicKey,
    signingKey: issuerKey as never,
    signingAlgorithm: ES256_SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      await x509.SubjectKeyIdentifierExtension.create(request.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.publicKey),
    ],
  });
}
