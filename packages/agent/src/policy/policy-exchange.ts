import type { KeyObject } from 'node:crypto';
import {
  type CertificateInfo,
  type Check,
  checkEnvelope,
  type Envelope,
  POLICY_REQUEST_CHECKS,
  POLICY_RESPONSE_CHECKS,
  POLICY_ROUTES,
  parseCertificate,
  parseWith,
  type SlacRequest,
  type SlacResponse,
  type SlacReturnRequest,
  type SlacReturnResponse,
  signEnvelope,
  type TrustRequest,
  type TrustResponse,
  type UsageRequest,
  type UsageResponse,
  verifyEnvelope,
  verifySignerChain,
} from '@smartlic/protocol/core';
import { type Failure, failureOf } from '../core/failure.js';
import { samePublicKey } from '../device-key.js';
import { mismatchFailure } from '../messaging/classify-failure.js';
import { type ExchangeSettings, postEnvelope } from '../messaging/exchange.js';

/** The policy-model message kinds. */
export type PolicyKind = keyof typeof POLICY_ROUTES;

/** The request payload of each policy-model message kind. */
export interface PolicyRequests {
  trust: TrustRequest;
  usage: UsageRequest;
  slac: SlacRequest;
  slacReturn: SlacReturnRequest;
}
interface Responses {
  trust: TrustResponse;
  usage: UsageResponse;
  slac: SlacResponse;
  slacReturn: SlacReturnResponse;
}
/**
 * What a message of an installed trust code says of its own: its payload without the fields every
 * such message carries (version, timestamp, nonce, the instance and its certificate serials).
 */
export type PolicyRequestFields<K extends Exclude<PolicyKind, 'trust'>> = Omit<
  PolicyRequests[K],
  'version' | 'timestamp' | 'nonce' | 'instanceId' | 'idCertSerial' | 'signingCertSerial'
>;

const CHECK_NAME = { trust: 'trust', usage: 'usage', slac: 'slac', slacReturn: 'slac-return' } as const;

/** A verified answer, or why it failed. */
export type PolicyResult<K extends PolicyKind> =
  | { ok: true; payload: Responses[K]; signer: CertificateInfo }
  | { ok: false; failure: Failure };

/**
 * Signs a policy-model message, posts it and verifies the answer as `exchange` does for the
 * registration model: the signer chains to a trust anchor (the trust answer brings its signing
 * certificate; later answers are checked against the one stored with the trust code), the
 * signature, the schema, the echoed nonce; a trust answer's ID certificate must certify our key.
 * Never throws.
 */
export async function policyExchange<K extends PolicyKind>(
  kind: K,
  payload: PolicyRequests[K],
  signing: { key: KeyObject; certSerial: string; publicKey?: KeyObject; signingCertPem?: string },
  settings: ExchangeSettings,
): Promise<PolicyResult<K>> {
  const fail = (failure: Failure): PolicyResult<K> => ({ ok: false, failure });
  if (!settings.destination) return fail(failureOf('TRANSPORT_NOT_AVAILABLE', { transport: true }));
  const name = CHECK_NAME[kind];
  const checked = parseWith(POLICY_REQUEST_CHECKS[name] as Check<unknown>, payload);
  if (!checked.ok)
    return fail(failureOf('BAD_REQUEST', { reason: `The ${name} request is not valid: ${checked.problem}` }));
  const envelope = signEnvelope(payload, signing.key, signing.certSerial);
  const posted = await postEnvelope(settings, settings.destination, POLICY_ROUTES[kind], envelope);
  if (!posted.ok) return posted;
  const outer = parseWith(checkEnvelope, posted.body);
  if (!outer.ok) return fail(mismatchFailure('the response is not a signed envelope'));
  const answer = outer.value as Envelope<Record<string, unknown>>;
  const signerPem = kind === 'trust' ? answer.payload.signingCertificate : signing.signingCertPem;
  if (typeof signerPem !== 'string') return fail(mismatchFailure('no signing certificate to verify the response with'));
  let signer: CertificateInfo;
  try {
    signer = verifySignerChain(signerPem, settings.anchors, settings.now(), answer.chain ?? []);
  } catch (error) {
    return fail(mismatchFailure((error as Error).message));
  }
  if (answer.signature.certSerial !== signer.serial || !verifyEnvelope(answer, signer.publicKey)) {
    return fail(mismatchFailure('the signature does not verify'));
  }
  const parsed = parseWith(POLICY_RESPONSE_CHECKS[name] as Check<unknown>, answer.payload);
  if (!parsed.ok) return fail(mismatchFailure(`the payload does not match the schema (${parsed.problem})`));
  const result = parsed.value as Responses[K];
  if (result.nonce !== payload.nonce) return fail(mismatchFailure('the response does not echo the request nonce'));
  if (kind === 'trust') {
    const problem = checkTrustCertificate(result as TrustResponse, signer, signing.publicKey);
    if (problem) return fail(mismatchFailure(problem));
  }
  return { ok: true, payload: result, signer };
}

function checkTrustCertificate(
  payload: TrustResponse,
  signer: CertificateInfo,
  ownKey: KeyObject | undefined,
): string | undefined {
  if (payload.signingCertSerial !== signer.serial) return 'the signing certificate serial does not match';
  let cert: CertificateInfo;
  try {
    cert = parseCertificate(payload.idCertificate);
  } catch {
    return 'the trust code certificate is not valid PEM';
  }
  if (cert.serial !== payload.idCertSerial) return 'the trust code serial does not match';
  if (!cert.cert.checkIssued(signer.cert) || !cert.cert.verify(signer.publicKey)) {
    return 'the trust code was not issued by the signing certificate';
  }
  if (ownKey && !samePublicKey(cert.publicKey, ownKey)) return 'the trust code is for another key';
  return undefined;
}
