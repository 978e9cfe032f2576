import { type KeyObject, sign } from 'node:crypto';
import { DAY, DEFAULT_TIMERS, SmartlicError } from '@smartlic/protocol';
import type { AuthorityPki } from './authority-pki.js';
import { BACKDATE_MS, toCertTime } from './certificate-factory.js';
import type { CsrKey } from './csr.js';
import { certificateDer, certificatePem, idCertificateTbs } from './der-template.js';
import { newCertificateSerial } from './serial.js';

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
 * (never beyond the signing certificate), signed by the signing key: the DER template of
 * ADR 0008, signed with node:crypto on the thread pool. The certificate is field for field
 * what `createIdCertificate` (@peculiar/x509) makes. A PID or SN with characters a
 * certificate subject should not hold is refused with `BAD_REQUEST`.
 */
export async function issueIdCertificate(
  pki: AuthorityPki,
  /** The device's key, its possession proven (the CSR's self-signature, or the envelope signed with it). */
  csr: CsrKey,
  subject: IdCertificateSubject,
  now: number,
): Promise<IssuedIdCertificate> {
  if (pki.signingNotAfter <= now + DAY) {
    // A person must act (renew the signing certificate, on a satellite by a sync): logged at ERROR.
    throw new SmartlicError('SIGNING_CERTIFICATE_EXPIRED', {
      context: { signingCertSerial: pki.signingCertSerial, notAfter: pki.signingNotAfter },
    });
  }
  checkSubjectText(subject);
  // The authority's sub-CA is not renewed: its ID certificates end with it. A satellite's signing
  // CA is renewed with the same key and name, under which its ID certificates stay valid (ADR 0013).
  const validUntil = now + DEFAULT_TIMERS.idCertValidityMs;
  const notAfter = toCertTime(
    pki.kind === 'authority' ? Math.min(validUntil, pki.signingNotAfter) : validUntil,
  ).getTime();
  const serial = newCertificateSerial();
  const tbs = idCertificateTbs(pki.idCertTemplate, {
    serialHex: serial,
    notBefore: toCertTime(now - BACKDATE_MS).getTime(),
    notAfter,
    commonName: subject.instanceId,
    serialNumber: `PID:${subject.pid} SN:${subject.sn}`,
    organization: subject.domain,
    spki: csr.spki,
  });
  const signature = await signDerAsync(tbs, pki.signingKey);
  return { pem: certificatePem(certificateDer(pki.idCertTemplate, tbs, signature)), serial, expiresAt: notAfter };
}

/**
 * Control characters have no place in a certificate subject, and backslashes and double quotes
 * are read as escapes by X.500 string parsers (the library this replaces mangled them, as it
 * did a value starting with `#`, which only the domain could): a PID, SN or domain holding
 * any of them is refused, as is text that is not well-formed Unicode.
 */
const UNFIT_TEXT = /[\p{Cc}"\\]|[\uD800-\uDFFF]/u;
const SUBJECT_FIELDS = { pid: 'PID', sn: 'SN', domain: 'domain' } as const;

function checkSubjectText(subject: IdCertificateSubject): void {
  const fields = (Object.keys(SUBJECT_FIELDS) as (keyof typeof SUBJECT_FIELDS)[]).filter(
    (field) => UNFIT_TEXT.test(subject[field]) || (field === 'domain' && subject.domain.startsWith('#')),
  );
  if (fields.length === 0) return;
  const problem = 'must be printable text without backslashes or double quotes';
  throw new SmartlicError('BAD_REQUEST', {
    message: `The request is not valid: the ${fields.map((f) => SUBJECT_FIELDS[f]).join(' and ')} ${problem}.`,
    context: { fields: Object.fromEntries(fields.map((f) => [f === 'domain' ? f : `udi.${f}`, [problem]])) },
  });
}

/** An ECDSA-SHA256 signature in DER (as X.509 carries it), computed on the thread pool. */
function signDerAsync(bytes: Buffer, key: KeyObject): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    sign('sha256', bytes, key, (error, signature) => (error ? reject(error) : resolve(signature)));
  });
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
