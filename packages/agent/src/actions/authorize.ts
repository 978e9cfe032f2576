import { errorMessage, newNonce } from '@smartlic/protocol/core';
import { rejectsIdentity } from '../core/failure.js';
import { exchange } from '../messaging/exchange.js';
import { authorizeRequest } from '../messaging/requests.js';
import type { Outcome } from '../outcome.js';
import { type AgentRuntime, outcomeOf } from '../runtime.js';

/** The outcome of an operation that needs a registration the device does not have. */
export function notRegistered(action: Outcome['action']): Outcome {
  return { action, ok: false, code: 'NOT_REGISTERED', message: errorMessage('NOT_REGISTERED') };
}

/**
 * Sends an authorization request with the usage declared now. The attempt is recorded as
 * PENDING before it is sent, so a crash mid-request shows "Waiting for reply". An authority that
 * no longer recognises the device's certificates unregisters it (`identity-rejected`).
 */
export async function authorize(rt: AgentRuntime): Promise<Outcome> {
  const cert = rt.state.registration.certificate;
  if (!cert) return notRegistered('authorize');
  await rt.commit({ type: 'authorize-sent' });
  const trustFailure = await rt.ensureTrust();
  if (trustFailure) return outcomeOf(await rt.commit({ type: 'authorize-failed', failure: trustFailure }), 'authorize');
  const requested = structuredClone(rt.state.usage);
  const payload = authorizeRequest(rt.state, cert, rt.wallNow(), newNonce());
  const result = await exchange(
    {
      kind: 'authorize',
      payload,
      signingKey: rt.key.pair.privateKey,
      certSerial: cert.serial,
      expect: { signingCertPem: cert.signingCertPem, instanceId: cert.instanceId },
    },
    rt.exchangeSettings(),
  );
  const outcomes = await rt.commit(
    result.ok
      ? {
          type: 'authorize-succeeded',
          response: result.payload,
          requested,
          ...(result.renewedSigner ? { renewedSigner: result.renewedSigner } : {}),
        }
      : rejectsIdentity(result.failure)
        ? { type: 'identity-rejected', action: 'authorize', failure: result.failure }
        : { type: 'authorize-failed', failure: result.failure },
  );
  return outcomeOf(outcomes, 'authorize');
}
