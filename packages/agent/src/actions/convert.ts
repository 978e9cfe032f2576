import { type ErrorCode, type LegacyLicense, newNonce, PROTOCOL_VERSION } from '@smartlic/protocol/core';
import { rejectsIdentity } from '../core/failure.js';
import { exchange } from '../messaging/exchange.js';
import type { AgentRuntime } from '../runtime.js';

/** What reporting legacy licenses came to (device-led conversion, SPEC §4.5). */
export type ConversionReport =
  | {
      ok: true;
      /** What this report deposited into the device's Virtual Account, per tag. */
      deposited: Array<{ tag: string; count: number }>;
      /** True when every reported license had been reported before: nothing was deposited. */
      alreadyConverted: boolean;
      /**
       * Licenses of this report that wait for an administrator's approval (over the Virtual
       * Account's automatic caps, or it reviews every conversion); deposited if approved.
       * Empty from an authority that does not say.
       */
      pending: Array<{ legacyId: string; tag: string; count: number }>;
      message: string;
    }
  | { ok: false; message: string; code?: ErrorCode };

/**
 * `license smart conversion start`: reports the legacy licenses the device holds to the
 * authority, which deposits each into the device's VA once (per UDI and legacy id) if the VA
 * accepts device-led conversion and the license is under its automatic caps, or keeps it
 * pending an administrator's approval. The device must be registered. Never throws: failures are `{ ok: false }`. Changes no agent state,
 * unless the authority no longer recognises the device's certificates: then the device is
 * unregistered and falls back to its evaluation period (`identity-rejected`).
 */
export async function reportLegacyLicenses(
  rt: AgentRuntime,
  licenses: readonly LegacyLicense[],
): Promise<ConversionReport> {
  const cert = rt.state.registration.certificate;
  if (!cert) return { ok: false, message: 'The device is not registered; register it before converting licenses.' };
  const trustFailure = await rt.ensureTrust();
  if (trustFailure) return failed(trustFailure);
  const result = await exchange(
    {
      kind: 'convert',
      payload: {
        type: 'convert',
        version: PROTOCOL_VERSION,
        timestamp: rt.wallNow(),
        nonce: newNonce(),
        instanceId: cert.instanceId,
        idCertSerial: cert.serial,
        signingCertSerial: cert.signingCertSerial,
        licenses: [...licenses],
      },
      signingKey: rt.key.pair.privateKey,
      certSerial: cert.serial,
      expect: { signingCertPem: cert.signingCertPem, instanceId: cert.instanceId },
    },
    rt.exchangeSettings(),
  );
  if (!result.ok) {
    if (rejectsIdentity(result.failure)) {
      await rt.commit({ type: 'identity-rejected', action: 'convert', failure: result.failure });
    }
    return failed(result.failure);
  }
  const { deposited, alreadyConverted, licenses: outcomes = [] } = result.payload;
  const pending = outcomes
    .filter((l) => l.outcome === 'pending')
    .map(({ legacyId, tag, count }) => ({ legacyId, tag, count }));
  return {
    ok: true,
    deposited,
    alreadyConverted,
    pending,
    message: reportMessage(deposited, pending, alreadyConverted),
  };
}

function reportMessage(
  deposited: ReadonlyArray<{ tag: string; count: number }>,
  pending: ReadonlyArray<{ legacyId: string; tag: string; count: number }>,
  alreadyConverted: boolean,
): string {
  if (alreadyConverted) return 'These licenses were already converted; nothing was deposited.';
  const parts: string[] = [];
  if (deposited.length > 0) parts.push(`Converted: ${deposited.map((d) => `${d.count} × ${d.tag}`).join(', ')}.`);
  if (pending.length > 0) {
    parts.push(
      `Awaiting approval by an administrator of the Virtual Account: ${pending.map((p) => `${p.count} × ${p.tag} (${p.legacyId})`).join(', ')}.`,
    );
  }
  return parts.join(' ');
}

function failed(failure: { reason: string; code?: ErrorCode }): ConversionReport {
  return { ok: false, message: failure.reason, ...(failure.code ? { code: failure.code } : {}) };
}
