import { newNonce } from '@smartlic/protocol/core';
import type { Failure } from '../core/failure.js';
import { newDeviceKey } from '../device-key.js';
import { exchange } from '../messaging/exchange.js';
import { deregisterRequest } from '../messaging/requests.js';
import type { Outcome } from '../outcome.js';
import { type AgentRuntime, outcomeOf } from '../runtime.js';

/**
 * `license smart deregister`: tells the authority, then removes the local registration whether
 * or not it answered, and replaces the device key for the next registration.
 */
export async function deregister(rt: AgentRuntime): Promise<Outcome> {
  const cert = rt.state.registration.certificate;
  if (!cert) {
    const outcomes = await rt.commit({ type: 'deregistered', deviceKeyFingerprint: rt.key.fingerprint });
    return outcomeOf(outcomes, 'deregister');
  }
  const failure = await tellAuthority(rt);
  const next = newDeviceKey();
  await rt.deps.store.stageKey(next);
  const outcomes = await rt.commit({
    type: 'deregistered',
    ...(failure ? { failure } : {}),
    deviceKeyFingerprint: next.fingerprint,
  });
  await rt.deps.store.promoteStagedKey();
  rt.key = next;
  return outcomeOf(outcomes, 'deregister');
}

async function tellAuthority(rt: AgentRuntime): Promise<Failure | undefined> {
  const trustFailure = await rt.ensureTrust();
  const cert = rt.state.registration.certificate;
  if (trustFailure || !cert) return trustFailure;
  const result = await exchange(
    {
      kind: 'deregister',
      payload: deregisterRequest(cert, rt.wallNow(), newNonce()),
      signingKey: rt.key.pair.privateKey,
      certSerial: cert.serial,
      expect: { signingCertPem: cert.signingCertPem, instanceId: cert.instanceId },
    },
    rt.exchangeSettings(),
  );
  return result.ok ? undefined : result.failure;
}
