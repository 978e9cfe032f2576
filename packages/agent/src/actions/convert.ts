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
      /** True when every reported license had been converted before: nothing was deposited. */
      alreadyConverted: boolean;
      message: string;
    }
  | { ok: false; message: string; code?: ErrorCode };

/**
 * `license smart conversion start`: reports the legacy licenses the device holds to the
 * authority, which deposits each into the device's VA once (per UDI and legacy id). The
 * device must be registered. Never throws: failures are `{ ok: false }`. Changes no agent state,
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
  const { deposited, alreadyConverted } = result.payload;
  const message = alreadyConverted
    ? 'These licenses were already converted; nothing was deposited.'
    : `Converted: ${deposited.map((d) => `${d.count} × ${d.tag}`).join(', ')}.`;
  return { ok: true, deposited, alreadyConverted, message };
}

function failed(failure: { reason: string; code?: ErrorCode }): ConversionReport {
  return { ok: false, message: failure.reason, ...(failure.code ? { code: failure.code } : {}) };
}
