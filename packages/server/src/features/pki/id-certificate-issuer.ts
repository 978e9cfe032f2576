import { DAY, DEFAULT_TIMERS, normalizeSerial } from '@smartlic/protocol';
import type { AuthorityPki } from './authority-pki.js';
import { BACKDATE_MS, createIdCertificate, toCertTime } from './certificate-factory.js';
import type { VerifiedCsr } from './csr.js';

/** An ID certificate as it is stored and sent to the device. */
export interface IssuedIdCertificate {
  pem: string;
  serial: string;
  /** The certificate's notAfter, ms since the epoch (whole seconds). */
  expiresAt: number;
}

/** Who the ID certificate is for. */
export interface IdCertificateSubject {
  instanceId: string;
  pid: string;
  sn: string;
  domain: string;
}

/**
 * Issues an ID certificate for `subject` and the CSR's key, valid 360 days from `now`
 * (never beyond the signing certificate), signed by the signing key.
 */
export async function issueIdCertificate(
  pki: AuthorityPki,
  csr: VerifiedCsr,
  subject: IdCertificateSubject,
  now: number,
): Promise<IssuedIdCertificate> {
  if (pki.signingNotAfter <= now + DAY) {
    // A person must act (renew the signing certificate); devices get INTERNAL, the log the cause.
    throw new Error(`The signing certificate ${pki.signingCertSerial} has expired or expires within a day`);
  }
  const notAfter = toCertTime(Math.min(now + DEFAULT_TIMERS.idCertValidityMs, pki.signingNotAfter)).getTime();
  const cert = await createIdCertificate(
    { ...subject, publicKey: csr.x509PublicKey, notBefore: now - BACKDATE_MS, notAfter },
    pki.signingCertificate,
    pki.signingWebKey,
  );
  return { pem: cert.toString('pem'), serial: normalizeSerial(cert.serialNumber), expiresAt: notAfter };
}

/**
 * The fields of a registration or ID renewal answer that carry a newly issued ID
 * certificate, the renewal interval and the signing certificate it chains to.
 */
export function idCertificateAnswer(pki: AuthorityPki, cert: IssuedIdCertificate) {
  return {
    idCertificate: cert.pem,
    idCertSerial: cert.serial,
    idCertExpiresAt: cert.expiresAt,
    renewIntervalMs: DEFAULT_TIMERS.idCertRenewIntervalMs,
    signingCertificate: pki.signingCertPem,
    signingCertSerial: pki.signingCertSerial,
  };
}
