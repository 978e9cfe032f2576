import { createPublicKey } from 'node:crypto';
import { SmartlicError } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import type { Database } from '../../storage/schema.js';
import type { InstanceIdentity } from '../instances/instance-key-cache.js';
import { findInstanceKey } from '../instances/instance-store.js';
import type { DeviceDeps } from './device-deps.js';
import type { DeviceRequest } from './device-request.js';
import { verifyDeviceSignature } from './device-signature.js';

/** Messages sent by a registered instance, signed with its ID certificate's key. */
export type IdentifiedType = 'authorize' | 'renew-id' | 'deregister' | 'convert';

/**
 * Authenticates a message from a registered instance: the instance must exist, the
 * message must name its current ID certificate serial (in the payload and the signature)
 * and our current signing certificate serial, the ID certificate must not have expired,
 * and the signature must verify with the instance's key.
 */
export async function authenticateInstance(
  deps: Pick<DeviceDeps, 'db' | 'cache' | 'pki' | 'clock'>,
  request: DeviceRequest<IdentifiedType>,
): Promise<InstanceIdentity> {
  const { payload, envelope } = request;
  let identity = deps.cache.get(payload.instanceId);
  if (!identity || identity.idCertSerial !== payload.idCertSerial) {
    // Not cached, or cached before a renewal made elsewhere: read the current state.
    identity = await loadIdentity(deps, payload.instanceId);
  }
  if (!identity) throw unknownInstance(payload.instanceId);
  const mismatched: string[] = [];
  if (payload.idCertSerial !== identity.idCertSerial) mismatched.push('idCertSerial');
  if (payload.signingCertSerial !== deps.pki.signingCertSerial) mismatched.push('signingCertSerial');
  if (envelope.signature.certSerial !== payload.idCertSerial) mismatched.push('signature.certSerial');
  if (mismatched.length > 0) {
    throw new SmartlicError('MISSING_SERIALS', {
      context: { fields: Object.fromEntries(mismatched.map((f) => [f, ['does not name the current certificate']])) },
    });
  }
  if (identity.idCertExpiresAt <= deps.clock.now()) {
    throw new SmartlicError('CERTIFICATE_EXPIRED', { context: { instanceId: identity.id } });
  }
  await verifyDeviceSignature(envelope, identity.publicKey);
  return identity;
}

/**
 * Inside the transaction: confirms the instance still holds the certificate it was
 * authenticated with, or throws what the device must hear (removed → `UNKNOWN_INSTANCE`,
 * renewed meanwhile → `MISSING_SERIALS`), dropping the stale cache entry.
 */
export async function refuseStaleIdentity(
  trx: Kysely<Database>,
  deps: Pick<DeviceDeps, 'cache'>,
  identity: InstanceIdentity,
): Promise<never> {
  deps.cache.delete(identity.id);
  const current = await findInstanceKey(trx, identity.id);
  if (!current) throw unknownInstance(identity.id);
  throw new SmartlicError('MISSING_SERIALS', {
    context: { fields: { idCertSerial: ['does not name the current certificate'] } },
  });
}

async function loadIdentity(
  deps: Pick<DeviceDeps, 'db' | 'cache'>,
  instanceId: string,
): Promise<InstanceIdentity | undefined> {
  const row = await findInstanceKey(deps.db, instanceId);
  if (!row) {
    deps.cache.delete(instanceId);
    return undefined;
  }
  const identity: InstanceIdentity = {
    id: row.id,
    vaId: row.va_id,
    publicKey: createPublicKey({ key: Buffer.from(row.public_key_spki, 'base64'), format: 'der', type: 'spki' }),
    idCertSerial: row.id_cert_serial,
    idCertExpiresAt: Number(row.id_cert_expires_at),
  };
  deps.cache.set(identity);
  return identity;
}

function unknownInstance(instanceId: string): SmartlicError {
  return new SmartlicError('UNKNOWN_INSTANCE', { context: { instanceId } });
}
