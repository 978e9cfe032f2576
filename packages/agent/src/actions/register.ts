import { createCsr, newNonce } from '@smartlic/protocol/core';
import { registrationForce } from '../core/registration.js';
import { csrSubject } from '../device-key.js';
import { exchange } from '../messaging/exchange.js';
import { registerRequest } from '../messaging/requests.js';
import type { Outcome } from '../outcome.js';
import { type AgentRuntime, outcomeOf } from '../runtime.js';
import { authorize } from './authorize.js';

/**
 * `license smart register idtoken TOKEN [force]`: records the pending registration, then
 * attempts it at once.
 */
export async function register(rt: AgentRuntime, idToken: string, force: boolean): Promise<Outcome> {
  if (typeof idToken !== 'string' || idToken.trim() === '' || idToken.length > 512) {
    return { action: 'register', ok: false, code: 'BAD_REQUEST', message: 'The ID token must be 1–512 characters.' };
  }
  if (rt.state.registration.certificate && !force) {
    const message = 'This device is already registered; register with force to register it again.';
    return { action: 'register', ok: false, code: 'ALREADY_REGISTERED', message };
  }
  await rt.commit({ type: 'register-requested', idToken: idToken.trim(), force });
  return attemptRegistration(rt);
}

/**
 * Sends the pending registration, signed with the device key (`certSerial: 'csr'`); on success
 * authorizes the declared usage at once (the outcome's `followUps`). The attempt is recorded as
 * sent first, so that after a crash the next attempt goes with `force` (the authority may have
 * registered the device from the lost attempt).
 */
export async function attemptRegistration(rt: AgentRuntime): Promise<Outcome> {
  const pending = rt.state.registration.pending;
  if (!pending) return { action: 'register', ok: false, message: 'No registration is pending.' };
  const trustFailure = await rt.ensureTrust();
  if (trustFailure) return outcomeOf(await rt.commit({ type: 'register-failed', failure: trustFailure }), 'register');
  const { identity } = rt.state;
  const csr = await createCsr(rt.key.pair, csrSubject(identity.pid, identity.sn));
  const force = registrationForce(pending);
  const payload = registerRequest(rt.state, { ...pending, force, csr, now: rt.wallNow(), nonce: newNonce() });
  if (rt.state.destination) await rt.commit({ type: 'register-sent' });
  const result = await exchange(
    {
      kind: 'register',
      payload,
      signingKey: rt.key.pair.privateKey,
      certSerial: 'csr',
      expect: { certifiedKey: rt.key.pair.publicKey },
    },
    rt.exchangeSettings(),
  );
  const outcomes = await rt.commit(
    result.ok
      ? { type: 'register-succeeded', response: result.payload }
      : { type: 'register-failed', failure: result.failure },
  );
  const outcome = outcomeOf(outcomes, 'register');
  if (result.ok && rt.state.usage.length > 0) outcome.followUps = [await authorize(rt)];
  return outcome;
}
