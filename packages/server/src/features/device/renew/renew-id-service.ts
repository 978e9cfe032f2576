import type { KeyObject } from 'node:crypto';
import { type Envelope, PROTOCOL_VERSION, type RenewIdResponse } from '@smartlic/protocol';
import { DEVICE_UNIT } from '../../../storage/transactor.js';
import { deviceActor } from '../../events/device-events.js';
import { recordEvent } from '../../events/event-recorder.js';
import { findInstanceSubject, replaceIdCertificate } from '../../instances/instance-store.js';
import { verifyCsr } from '../../pki/csr.js';
import { idCertificateAnswer, issueIdCertificate } from '../../pki/id-certificate-issuer.js';
import { signResponse } from '../../pki/response-signer.js';
import type { DeviceDeps } from '../device-deps.js';
import { authenticateInstance, refuseStaleIdentity } from '../device-identity.js';
import type { DeviceRequest } from '../device-request.js';
import { recordNonce } from '../nonce-store.js';
import { replayedNonce } from '../replay.js';

/**
 * ID certificate renewal (SPEC §4.3): signed with the current ID key, carrying a CSR for
 * the new (or the same) key; the instance keeps its id and gets a new certificate. The
 * certificate that signed the renewal stays accepted as the previous one until the device
 * first uses the new one, in case the answer never reaches it; signed with that previous
 * certificate, a renewal replaces the unused current one.
 */
export async function renewIdCertificate(
  deps: DeviceDeps,
  request: DeviceRequest<'renew-id'>,
): Promise<Envelope<RenewIdResponse>> {
  const { db, transactor, clock, cache } = deps;
  const pki = deps.pki.current();
  const { payload } = request;
  const identity = await authenticateInstance(deps, request);
  const held = identity.signedWith;
  const csr = await verifyCsr(payload.csr);
  const subject = await findInstanceSubject(db, identity.id);
  if (!subject) return refuseStaleIdentity(db, deps, identity);
  const now = clock.now();
  const cert = await issueIdCertificate(pki, csr, { instanceId: identity.id, ...subject }, now);

  const vaId = await transactor.run(async (trx) => {
    if (!(await recordNonce(trx, payload.nonce, now))) throw replayedNonce();
    const replaced = await replaceIdCertificate(trx, {
      id: identity.id,
      held: { serial: held.serial, publicKeySpki: spkiBase64(held.publicKey), expiresAt: held.expiresAt },
      publicKeySpki: csr.spkiBase64,
      pem: cert.pem,
      serial: cert.serial,
      expiresAt: cert.expiresAt,
      now,
    });
    if (!replaced) return refuseStaleIdentity(trx, deps, identity);
    await recordEvent(trx, {
      at: now,
      actor: deviceActor(identity.id),
      type: 'instance.renewed',
      vaId: replaced.vaId,
      detail: {
        instanceId: identity.id,
        idCertSerial: cert.serial,
        idCertExpiresAt: new Date(cert.expiresAt).toISOString(),
      },
    });
    return replaced.vaId;
  }, DEVICE_UNIT);
  cache.set({
    id: identity.id,
    vaId,
    publicKey: csr.publicKey,
    idCertSerial: cert.serial,
    idCertExpiresAt: cert.expiresAt,
    previous: held,
  });
  deps.logger?.info(
    { instanceId: identity.id, idCertSerial: cert.serial, signedWithSerial: held.serial },
    'ID certificate renewed',
  );

  return signResponse(pki, {
    type: 'renew-id-response',
    version: PROTOCOL_VERSION,
    timestamp: clock.now(),
    nonce: payload.nonce,
    instanceId: identity.id,
    ...idCertificateAnswer(pki, cert),
  } satisfies RenewIdResponse);
}

function spkiBase64(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'der' }).toString('base64');
}
