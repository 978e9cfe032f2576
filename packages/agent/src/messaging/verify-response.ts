import type { KeyObject } from 'node:crypto';
import {
  type CertificateInfo,
  checkEnvelope,
  type Envelope,
  parseCertificate,
  parseWith,
  type Signature,
  verifyEnvelope,
  verifySignerChain,
} from '@smartlic/protocol/core';
import { samePublicKey } from '../device-key.js';
import { type MessageKind, parseResponse, type ResponsePayloads } from './schemas.js';

/** What a response must match besides its signature. */
export interface ResponseExpectation {
  /** The nonce of the request; the response must echo it. */
  nonce: string;
  /** Trust anchors (PEM) the signing certificate must chain to. */
  anchors: readonly string[];
  /** Agent time, for certificate validity. */
  now: number;
  /** The signing certificate on record; register and renew-id responses bring their own. */
  signingCertPem?: string;
  /** The product instance the request was about. */
  instanceId?: string;
  /** The key the returned ID certificate must certify (register and renew-id). */
  certifiedKey?: KeyObject;
}

/** A verified response, or why it was refused. */
export type Verification<K extends MessageKind> =
  | {
      ok: true;
      payload: ResponsePayloads[K];
      signer: CertificateInfo;
      /** The response's `signer`: the renewed certificate of the key on record, to keep from now on. */
      renewedSigner?: { pem: string; serial: string };
    }
  | { ok: false; problem: string };

/** Step 1: the body is a `{ payload, signature }` envelope. */
export function parseEnvelope(body: unknown): Envelope | undefined {
  const parsed = parseWith(checkEnvelope, body);
  return parsed.ok ? parsed.value : undefined;
}

/** Step 3: the signature verifies over the canonical payload with the signer's key. */
export function checkSignature(envelope: { payload: unknown; signature: Signature }, publicKey: KeyObject): boolean {
  return verifyEnvelope(envelope, publicKey);
}

/**
 * Verifies a response of `kind` completely: envelope shape; signing certificate chained to a
 * trust anchor and valid now (through the envelope's `chain` of intermediates when a satellite
 * under a satellite signed it; the envelope's `signer` instead of the certificate on record when
 * the server renewed it — same key only); `signature.certSerial` naming that certificate; signature over the
 * canonical payload; payload schema; echoed nonce; instance id; and for register/renew-id the ID
 * certificate issued by the signer for our key. Any failure refuses the whole response.
 */
export function verifyResponse<K extends MessageKind>(
  kind: K,
  body: unknown,
  expect: ResponseExpectation,
): Verification<K> {
  const envelope = parseEnvelope(body);
  if (!envelope) return refuse('the response is not a signed envelope');
  const renewal = carriesCertificate(kind) ? undefined : envelope.signer;
  const signerPem = carriesCertificate(kind) ? envelope.payload.signingCertificate : (renewal ?? expect.signingCertPem);
  if (typeof signerPem !== 'string') return refuse('no signing certificate to verify the response with');
  if (renewal !== undefined && !sameKeyAsOnRecord(renewal, expect.signingCertPem)) {
    return refuse('the response names a new signing certificate for another key');
  }
  let signer: CertificateInfo;
  try {
    signer = verifySignerChain(signerPem, expect.anchors, expect.now, envelope.chain ?? []);
  } catch (error) {
    return refuse((error as Error).message);
  }
  if (envelope.signature.certSerial !== signer.serial) {
    return refuse(`signed by certificate ${envelope.signature.certSerial}, expected ${signer.serial}`);
  }
  if (!checkSignature(envelope, signer.publicKey)) return refuse('the signature does not verify');
  const parsed = parseResponse(kind, envelope.payload);
  if (!parsed.ok) return refuse(`the payload does not match the schema (${parsed.problem})`);
  const payload = parsed.value;
  if (payload.nonce !== expect.nonce) return refuse('the response does not echo the request nonce');
  if (expect.instanceId && payload.instanceId !== expect.instanceId)
    return refuse('the response is for another instance');
  if ('idCertificate' in payload) {
    const problem = checkIdCertificate(payload, signer, expect.certifiedKey);
    if (problem) return refuse(problem);
  }
  return {
    ok: true,
    payload,
    signer,
    ...(renewal !== undefined && signer.serial !== serialOf(expect.signingCertPem)
      ? { renewedSigner: { pem: renewal, serial: signer.serial } }
      : {}),
  };
}

/** A renewed signing certificate is accepted only for the key the device already trusts to sign. */
function sameKeyAsOnRecord(renewedPem: string, onRecordPem: string | undefined): boolean {
  if (onRecordPem === undefined) return false;
  try {
    return samePublicKey(parseCertificate(renewedPem).publicKey, parseCertificate(onRecordPem).publicKey);
  } catch {
    return false;
  }
}

function serialOf(pem: string | undefined): string | undefined {
  try {
    return pem === undefined ? undefined : parseCertificate(pem).serial;
  } catch {
    return undefined;
  }
}

function carriesCertificate(kind: MessageKind): boolean {
  return kind === 'register' || kind === 'renew-id';
}

function checkIdCertificate(
  payload: { idCertificate: string; idCertSerial: string; signingCertSerial: string },
  signer: CertificateInfo,
  certifiedKey: KeyObject | undefined,
): string | undefined {
  if (payload.signingCertSerial !== signer.serial) return 'the signing certificate serial does not match';
  let idCert: CertificateInfo;
  try {
    idCert = parseCertificate(payload.idCertificate);
  } catch {
    return 'the ID certificate is not valid PEM';
  }
  if (idCert.serial !== payload.idCertSerial) return 'the ID certificate serial does not match';
  if (!idCert.cert.checkIssued(signer.cert) || !idCert.cert.verify(signer.publicKey)) {
    return 'the ID certificate was not issued by the signing certificate';
  }
  if (certifiedKey && !samePublicKey(idCert.publicKey, certifiedKey)) return 'the ID certificate is for another key';
  return undefined;
}

function refuse(problem: string): { ok: false; problem: string } {
  return { ok: false, problem };
}
