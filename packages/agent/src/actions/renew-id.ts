import { createCsr, newNonce } from '@smartlic/protocol/core';
import { rejectsIdentity } from '../core/failure.js';
import { csrSubject, newDeviceKey } from '../device-key.js';
import { exchange } from '../messaging/exchange.js';
import { renewIdRequest } from '../messaging/requests.js';
import type { Outcome } from '../outcome.js';
import { type AgentRuntime, outcomeOf } from '../runtime.js';
import { notRegistered } from './authorize.js';

/**
 * Renews the ID certificate for a new device key. The new key is staged on disk first and
 * becomes the device key only once the state holding the new certificate is saved.
 */
export async function renewId(rt: AgentRuntime): Promise<Outcome> {
  const cert = rt.state.registration.certificate;
  if (!cert) return notRegistered('renew-id');
  const trustFailure = await rt.ensureTrust();
  if (trustFailure) return outcomeOf(await rt.commit({ type: 'renew-id-failed', failure: trustFailure }), 'renew-id');
  const next = newDeviceKey();
  await rt.deps.store.stageKey(next);
  const { identity } = rt.state;
  const csr = await createCsr(next.pair, csrSubject(identity.pid, identity.sn));
  const result = await exchange(
    {
      kind: 'renew-id',
      payload: renewIdRequest(cert, csr, rt.wallNow(), newNonce()),
      signingKey: rt.key.pair.privateKey,
      certSerial: cert.serial,
      expect: { instanceId: cert.instanceId, certifiedKey: next.pair.publicKey },
    },
    rt.exchangeSettings(),
  );
  if (!result.ok) {
    await rt.deps.store.discardStagedKey();
    const failure = result.failure;
    const input = rejectsIdentity(failure)
      ? ({ type: 'identity-rejected', action: 'renew-id', failure } as const)
      : ({ type: 'renew-id-failed', failure } as const);
    return outcomeOf(await rt.commit(input), 'renew-id');
  }
  const outcomes = await rt.commit({
    type: 'renew-id-succeeded',
    response: result.payload,
    deviceKeyFingerprint: next.fingerprint,
  });
  if (rt.state.deviceKeyFingerprint !== next.fingerprint) {
    // The registration was lost while the request was out (the certificate expired): keep the old key.
    await rt.deps.store.discardStagedKey();
    return notRegistered('renew-id');
  }
  await rt.deps.store.promoteStagedKey();
  rt.key = next;
  return outcomeOf(outcomes, 'renew-id');
}
