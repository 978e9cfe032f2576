import { createPublicKey, type KeyObject } from 'node:crypto';
import { SmartlicError } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import type { Database } from '../../storage/schema.js';
import type { IdCertificateKey, InstanceIdentity } from '../instances/instance-key-cache.js';
import { clearPreviousIdCertificate, findInstanceKey } from '../instances/instance-store.js';
import type { DeviceDeps } from './device-deps.js';
import type { DeviceRequest } from './device-request.js';
import { verifyDeviceSignature } from './device-signature.js';

/** Messages sent by a registered instance, signed with its ID certificate's key. */
export type IdentifiedType = 'authorize' | 'renew-id' | 'deregister' | 'convert';

/** An instance whose message was authenticated, and the ID certificate that signed it. */
export interface AuthenticatedInstance extends InstanceIdentity {
  /** The current certificate, or the previous one while the device has not used the current one. */
  signedWith: IdCertificateKey;
}

/**
 * Authenticates a message from a registered instance: the instance must exist, the
 * message must name one of its accepted ID certificate serials (in the payload and the
 * signature) — the current one, or the previous one until the device first uses the current
 * one — and our current signing certificate serial (or an earlier one of the same key, which a
 * satellite's renewal replaced), which must not have expired (else
 * `MISSING_SERIALS`, seed 003 #6), that ID certificate must not have expired, and the signature
 * must verify with its key.
 */
export async function authenticateInstance(
  deps: Pick<DeviceDeps, 'db' | 'cache' | 'pki' | 'clock'>,
  request: DeviceRequest<IdentifiedType>,
): Promise<AuthenticatedInstance> {
  const { payload, envelope } = request;
  let identity = deps.cache.get(payload.instanceId);
  if (!identity || !certificateNamed(identity, payload.idCertSerial)) {
    // Not cached, or cached before a renewal made elsewhere: read the current state.
    identity = await loadIdentity(deps, payload.instanceId);
  }
  if (!identity) throw unknownInstance(payload.instanceId);
  const signedWith = certificateNamed(identity, payload.idCertSerial);
  const mismatched: string[] = [];
  if (!signedWith) mismatched.push('idCertSerial');
  const pki = deps.pki.current();
  // An expired signing certificate signs nothing a device accepts: the device is told, as when the
  // certificate was replaced, that its serials are no longer recognised (seed 003 #6).
  const knownSigning =
    payload.signingCertSerial === pki.signingCertSerial ||
    pki.previousSigningSerials.includes(payload.signingCertSerial);
  if (!knownSigning || pki.signingNotAfter <= deps.clock.now()) {
    mismatched.push('signingCertSerial');
  }
  if (envelope.signature.certSerial !== payload.idCertSerial) mismatched.push('signature.certSerial');
  if (!signedWith || mismatched.length > 0) {
    throw new SmartlicError('MISSING_SERIALS', {
      context: { fields: Object.fromEntries(mismatched.map((f) => [f, ['does not name the current certificate']])) },
    });
  }
  if (signedWith.expiresAt <= deps.clock.now()) {
    throw new SmartlicError('CERTIFICATE_EXPIRED', { context: { instanceId: identity.id } });
  }
  await verifyDeviceSignature(envelope, signedWith.publicKey);
  return { ...identity, signedWith };
}

/**
 * Inside the transaction, once the message's certificate was confirmed: the first message
 * signed with a renewed certificate retires the previous one. Writes only when there is one.
 */
export async function retirePreviousCertificate(trx: Kysely<Database>, identity: AuthenticatedInstance): Promise<void> {
  if (retiresPrevious(identity)) await clearPreviousIdCertificate(trx, identity.id, identity.idCertSerial);
}

/** After the commit of {@link retirePreviousCertificate}: the cache forgets the retired certificate too. */
export function forgetRetiredCertificate(deps: Pick<DeviceDeps, 'cache'>, identity: AuthenticatedInstance): void {
  if (!retiresPrevious(identity)) return;
  const cached = deps.cache.get(identity.id);
  // Unless another request has cached something newer meanwhile.
  if (cached?.idCertSerial === identity.idCertSerial) deps.cache.set({ ...cached, previous: undefined });
}

/** A message signed with the current certificate while a previous one is still accepted. */
function retiresPrevious(identity: AuthenticatedInstance): boolean {
  return identity.previous !== undefined && identity.signedWith.serial === identity.idCertSerial;
}

/** Whether the instance's row still accepts the certificate the message was signed with. */
export function stillAccepts(
  row: { id_cert_serial: string; previous_id_cert_serial?: string | null | undefined } | undefined,
  identity: AuthenticatedInstance,
): boolean {
  const serial = identity.signedWith.serial;
  return row !== undefined && (row.id_cert_serial === serial || row.previous_id_cert_serial === serial);
}

/**
 * Inside the transaction: called when the instance no longer accepts the certificate it was
 * authenticated with; throws what the device must hear (removed → `UNKNOWN_INSTANCE`,
 * renewed or superseded meanwhile → `MISSING_SERIALS`), dropping the stale cache entry.
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

/** The instance's certificate with this serial, if it is accepted (its expiry is checked apart). */
function certificateNamed(identity: InstanceIdentity, serial: string): IdCertificateKey | undefined {
  if (serial === identity.idCertSerial) {
    return { serial, publicKey: identity.publicKey, expiresAt: identity.idCertExpiresAt };
  }
  return identity.previous?.serial === serial ? identity.previous : undefined;
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
    publicKey: spkiKey(row.public_key_spki),
    idCertSerial: row.id_cert_serial,
    idCertExpiresAt: Number(row.id_cert_expires_at),
  };
  if (row.previous_id_cert_serial && row.previous_public_key_spki && row.previous_id_cert_expires_at != null) {
    identity.previous = {
      serial: row.previous_id_cert_serial,
      publicKey: spkiKey(row.previous_public_key_spki),
      expiresAt: Number(row.previous_id_cert_expires_at),
    };
  }
  deps.cache.set(identity);
  return identity;
}

function spkiKey(base64: string): KeyObject {
  return createPublicKey({ key: Buffer.from(base64, 'base64'), format: 'der', type: 'spki' });
}

function unknownInstance(instanceId: string): SmartlicError {
  return new SmartlicError('UNKNOWN_INSTANCE', { context: { instanceId } });
}
