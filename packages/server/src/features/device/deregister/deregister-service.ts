import { type DeregisterResponse, type Envelope, PROTOCOL_VERSION } from '@smartlic/protocol';
import { DEVICE_UNIT } from '../../../storage/transactor.js';
import { releaseInstanceUsage } from '../../compliance/usage-store.js';
import { deviceActor } from '../../events/device-events.js';
import { recordEvent } from '../../events/event-recorder.js';
import { deleteInstance, findInstanceKey } from '../../instances/instance-store.js';
import { signResponse } from '../../pki/response-signer.js';
import type { DeviceDeps } from '../device-deps.js';
import { authenticateInstance, refuseStaleIdentity, stillAccepts } from '../device-identity.js';
import type { DeviceRequest } from '../device-request.js';
import { recordNonce } from '../nonce-store.js';
import { replayedNonce } from '../replay.js';

/** Deregistration (SPEC §4.4): releases the instance's usage and removes it. */
export async function deregisterDevice(
  deps: DeviceDeps,
  request: DeviceRequest<'deregister'>,
): Promise<Envelope<DeregisterResponse>> {
  const { transactor, clock, cache } = deps;
  const pki = deps.pki.current();
  const { payload } = request;
  const identity = await authenticateInstance(deps, request);
  const now = clock.now();

  await transactor.run(async (trx) => {
    if (!(await recordNonce(trx, payload.nonce, now))) throw replayedNonce();
    // Signed with the current certificate or the previous one (a renewal whose answer was lost).
    if (!stillAccepts(await findInstanceKey(trx, identity.id), identity))
      await refuseStaleIdentity(trx, deps, identity);
    await releaseInstanceUsage(trx, { instanceId: identity.id, vaId: identity.vaId });
    await deleteInstance(trx, identity.id);
    await recordEvent(trx, {
      at: now,
      actor: deviceActor(identity.id),
      type: 'instance.deregistered',
      vaId: identity.vaId,
      detail: { instanceId: identity.id },
    });
  }, DEVICE_UNIT);
  cache.delete(identity.id);
  deps.logger?.info({ instanceId: identity.id, vaId: identity.vaId }, 'Product instance deregistered');

  return signResponse(
    pki,
    {
      type: 'deregister-response',
      version: PROTOCOL_VERSION,
      timestamp: clock.now(),
      nonce: payload.nonce,
      instanceId: identity.id,
    } satisfies DeregisterResponse,
    payload.signingCertSerial,
  );
}
