import { SmartlicError } from '@smartlic/protocol';
import { findVaWithAccount } from '../accounts/account-store.js';
import type { DeviceDeps } from '../device/device-deps.js';
import { verifyDeviceSignature } from '../device/device-signature.js';
import { recordNonce } from '../device/nonce-store.js';
import { replayedNonce } from '../device/replay.js';
import { deviceActor } from '../events/device-events.js';
import { recordEvent } from '../events/event-recorder.js';
import { findInstanceByUdi, findInstanceSubject } from '../instances/instance-store.js';
import { readCsrKey } from '../pki/csr.js';
import { issueIdCertificate } from '../pki/id-certificate-issuer.js';
import { hasActiveReservation } from '../reservations/reservation-store.js';
import { checkToken, tokenRefusalError } from '../tokens/token-status.js';
import { consumeTokenUse, findTokenByValue } from '../tokens/token-store.js';
import { markPolicyDevice } from './policy-devices.js';
import type { PolicyRequest } from './policy-request.js';

/** What a trust code installed in place carries besides the signing certificate. */
export interface TrustedInPlace {
  instanceId: string;
  vaId: string;
  cert: { pem: string; serial: string; expiresAt: number };
  exportControlled: boolean;
}

/**
 * `trust … force` of a UDI that is a product instance of the token's own Smart Account (a
 * registered device switching to the policy model, or a policy device installing a new trust code):
 * the instance keeps its id, VA and usage, and its key and ID certificate become the trust code's,
 * in one transaction with the nonce and the token use. Answers undefined when this does not apply
 * (no such instance, no `force`, another account's instance): the registration use case then
 * decides, refusals included. A UDI holding a license reservation is refused as registration does.
 */
export async function trustInPlace(
  deps: DeviceDeps,
  request: PolicyRequest<'trust'>,
): Promise<TrustedInPlace | undefined> {
  const { db, transactor, clock, pki, cache } = deps;
  const { payload, envelope } = request;
  if (!payload.force || envelope.signature.certSerial !== 'csr') return undefined;
  const { pid, sn } = payload.udi;
  const existing = await findInstanceByUdi(db, pid, sn);
  if (!existing) return undefined;
  const now = clock.now();
  const preview = checkToken(await findTokenByValue(db, payload.idToken), now);
  if (!preview.ok) return undefined;
  const [tokenPlace, holder] = await Promise.all([
    findVaWithAccount(db, preview.token.va_id),
    findVaWithAccount(db, existing.va_id),
  ]);
  if (!tokenPlace || tokenPlace.account.id !== holder?.account.id) return undefined;

  // Signed with the CSR's key over a payload that holds the CSR: that is the proof of possession (ADR 0021).
  const csr = await readCsrKey(payload.csr);
  await verifyDeviceSignature(envelope, csr.publicKey);
  const subject = await findInstanceSubject(db, existing.id);
  if (!subject) return undefined;
  const cert = await issueIdCertificate(pki.current(), csr, { instanceId: existing.id, ...subject }, now);

  const outcome = await transactor.run(async (trx) => {
    if (!(await recordNonce(trx, payload.nonce, now))) throw replayedNonce();
    const check = checkToken(await findTokenByValue(trx, payload.idToken), now);
    if (!check.ok) throw tokenRefusalError(check.reason);
    if (await hasActiveReservation(trx, existing.id)) {
      throw new SmartlicError('ALREADY_REGISTERED', {
        message: `Product Already Registered: PID:${pid} SN:${sn} holds a license reservation; return it before installing a trust code.`,
      });
    }
    if (!(await consumeTokenUse(trx, check.token.id, now))) throw tokenRefusalError('USED_UP');
    const row = await trx
      .updateTable('instances')
      .set({
        public_key_spki: csr.spkiBase64,
        id_cert_pem: cert.pem,
        id_cert_serial: cert.serial,
        id_cert_expires_at: cert.expiresAt,
        previous_id_cert_serial: null,
        previous_public_key_spki: null,
        previous_id_cert_expires_at: null,
        hostname: payload.hostname ?? null,
        software_tag: payload.softwareTag,
        last_contact_at: now,
      })
      .where('id', '=', existing.id)
      .returning(['va_id', 'export_controlled'])
      .executeTakeFirst();
    if (!row) throw new SmartlicError('UNKNOWN_INSTANCE', { context: { instanceId: existing.id } });
    await markPolicyDevice(trx, existing.id, now);
    await recordEvent(trx, {
      at: now,
      actor: deviceActor(existing.id),
      type: 'token.used',
      accountId: tokenPlace.account.id,
      vaId: check.token.va_id,
      detail: { tokenId: check.token.id, instanceId: existing.id },
    });
    await recordEvent(trx, {
      at: now,
      actor: deviceActor(existing.id),
      type: 'instance.trusted',
      vaId: row.va_id,
      detail: { instanceId: existing.id, pid, sn, idCertSerial: cert.serial, inPlace: true },
    });
    return { vaId: row.va_id, exportControlled: Number(row.export_controlled) === 1 };
  });
  cache.delete(existing.id);
  deps.logger?.info({ instanceId: existing.id, productId: pid, serialNumber: sn }, 'Trust code installed in place');
  return { instanceId: existing.id, vaId: outcome.vaId, cert, exportControlled: outcome.exportControlled };
}
