import { PROTOCOL_VERSION, type RegisterResponse, SmartlicError } from '@smartlic/protocol';
import type { Transaction } from 'kysely';
import type { Database } from '../../../storage/schema.js';
import { DEVICE_UNIT } from '../../../storage/transactor.js';
import { refuseDuplicate } from '../../../storage/unique-violation.js';
import { timeOrderedUuid } from '../../../util/time-ordered-uuid.js';
import { findVaWithAccount } from '../../accounts/account-store.js';
import { releaseInstanceUsage } from '../../compliance/usage-store.js';
import { deviceActor } from '../../events/device-events.js';
import { recordEventPrepared } from '../../events/event-recorder.js';
import { deleteInstance } from '../../instances/instance-store.js';
import { readCsrKey } from '../../pki/csr.js';
import { idCertificateAnswer, issueIdCertificate } from '../../pki/id-certificate-issuer.js';
import { type SignedAnswer, signAnswer } from '../../pki/response-signer.js';
import { hasActiveReservation } from '../../reservations/reservation-store.js';
import { servedBySatellite } from '../../satellites/served-vas.js';
import { checkToken, tokenRefusalError } from '../../tokens/token-status.js';
import { tokenHash } from '../../tokens/token-values.js';
import type { DeviceDeps } from '../device-deps.js';
import type { DeviceRequest } from '../device-request.js';
import { verifyDeviceSignature } from '../device-signature.js';
import { replayedNonce } from '../replay.js';
import { alreadyRegistered, recordTakeoverRefusal, type TakeoverAttempt } from './takeover-refusal.js';

/**
 * Registration (SPEC §4.1): the message is signed with the key of its CSR; the token must
 * be known, not revoked, not expired and not used up; a UDI already registered is refused
 * unless `force`, which removes the old instance and its usage in the same transaction — and
 * only an instance of the token's own Smart Account: a forced registration of a UDI held by
 * another account is refused in the same words as an unforced one, and recorded in both logs.
 * The new instance gets an ID certificate from the signing certificate.
 */
export async function registerDevice(
  deps: DeviceDeps,
  request: DeviceRequest<'register'>,
  /** A further write of the caller's in the registration's transaction (the trust code records its policy device). */
  alsoInTransaction?: (trx: Transaction<Database>, instanceId: string, now: number) => Promise<void>,
): Promise<SignedAnswer<RegisterResponse>> {
  const { db, transactor, clock, cache, statements, places } = deps;
  const pki = deps.pki.current();
  const { payload, envelope } = request;
  if (envelope.signature.certSerial !== 'csr') {
    throw new SmartlicError('SIGNATURE_MISMATCH', {
      message:
        'data and signature do not match: a registration must be signed with the key of its CSR (certSerial "csr").',
      context: { fields: { 'signature.certSerial': ['must be "csr" for a registration'] } },
    });
  }
  // The envelope, signed with the CSR's key over a payload that holds the CSR, is the proof of
  // possession: the CSR's self-signature would prove it a second time (ADR 0021).
  const csr = await readCsrKey(payload.csr);
  await verifyDeviceSignature(envelope, csr.publicKey);

  // Read-only look at the token first, so a hopeless request costs no certificate signing.
  const now = clock.now();
  const hash = tokenHash(payload.idToken);
  const preview = checkToken(await statements.findTokenByHash(db, hash), now);
  if (!preview.ok) throw tokenRefusalError(preview.reason);
  const place = await places.get(db, preview.token.va_id);
  if (!place) throw tokenRefusalError('INVALID');

  // Time-ordered: the instances' primary key grows at its end (issue 15).
  const instanceId = timeOrderedUuid(now);
  const { pid, sn } = payload.udi;
  const cert = await issueIdCertificate(pki, csr, { instanceId, pid, sn, domain: place.account.domain }, now);

  const outcome = await transactor
    .run(async (trx) => {
      // The common case runs prepared statements (ADR 0021); the rarer branches stay Kysely.
      if (!(await statements.recordNonce(trx, payload.nonce, now))) throw replayedNonce();
      const check = checkToken(await statements.findTokenByHash(trx, hash), now);
      if (!check.ok) throw tokenRefusalError(check.reason);
      const token = check.token;
      const served = await statements.findServingSatellite(trx, token.va_id);
      if (served) throw servedBySatellite(token.va_id, served);
      const existing = await statements.findInstanceByUdi(trx, pid, sn);
      if (existing) {
        // `force` replaces an instance of the token's own Smart Account only (never another's).
        const holder = await findVaWithAccount(trx, existing.va_id);
        const sameAccount = holder?.account.id === place.account.id;
        if (!payload.force || !sameAccount) {
          const takeover: TakeoverAttempt | undefined = payload.force
            ? {
                target: { instanceId: existing.id, accountId: holder?.account.id ?? null, vaId: existing.va_id },
                source: { accountId: place.account.id, vaId: token.va_id, tokenId: token.id },
                pid,
                sn,
                hostname: payload.hostname ?? null,
              }
            : undefined;
          throw alreadyRegistered(pid, sn, takeover);
        }
      }
      if (existing && (await hasActiveReservation(trx, existing.id))) {
        // A reserved device holds its licenses offline: replacing it would count them twice or lose them.
        throw new SmartlicError('ALREADY_REGISTERED', {
          message: `Product Already Registered: PID:${pid} SN:${sn} holds a license reservation; return it before registering online.`,
        });
      }
      if (existing) {
        await releaseInstanceUsage(trx, { instanceId: existing.id, vaId: existing.va_id });
        await deleteInstance(trx, existing.id);
        cache.delete(existing.id);
      }
      if (!(await statements.consumeTokenUse(trx, token.id, now))) throw tokenRefusalError('USED_UP');
      // Two processes may both have found no instance of this UDI: the constraint refuses the second.
      const insert = statements.insertInstance(trx, {
        id: instanceId,
        va_id: token.va_id,
        token_id: token.id,
        pid,
        sn,
        hostname: payload.hostname ?? null,
        software_tag: payload.softwareTag,
        public_key_spki: csr.spkiBase64,
        id_cert_pem: cert.pem,
        id_cert_serial: cert.serial,
        id_cert_expires_at: cert.expiresAt,
        registered_at: now,
        last_contact_at: now,
        export_controlled: token.export_controlled,
      });
      await refuseDuplicate(insert, () => alreadyRegistered(pid, sn));
      await alsoInTransaction?.(trx, instanceId, now);
      const actor = deviceActor(instanceId);
      const where = { accountId: place.account.id, vaId: token.va_id };
      await recordEventPrepared(statements, trx, {
        at: now,
        actor,
        type: 'token.used',
        ...where,
        detail: { tokenId: token.id, instanceId },
      });
      await recordEventPrepared(statements, trx, {
        at: now,
        actor,
        type: 'instance.registered',
        ...where,
        detail: { instanceId, pid, sn, hostname: payload.hostname ?? null, replaced: existing?.id ?? null },
      });
      return { exportControlled: token.export_controlled === 1, replaced: existing?.id };
    }, DEVICE_UNIT)
    .catch((error: unknown) => recordTakeoverRefusal(deps, error));
  cache.set({
    id: instanceId,
    vaId: preview.token.va_id,
    publicKey: csr.publicKey,
    idCertSerial: cert.serial,
    idCertExpiresAt: cert.expiresAt,
  });
  deps.logger?.info(
    { instanceId, vaId: place.va.id, productId: pid, serialNumber: sn, replaced: outcome.replaced },
    outcome.replaced ? 'Product instance registered again (force)' : 'Product instance registered',
  );

  // Written once, from the canonical text the signature covers (as the authorization's answer).
  return signAnswer(pki, {
    type: 'register-response',
    version: PROTOCOL_VERSION,
    timestamp: clock.now(),
    nonce: payload.nonce,
    instanceId,
    ...idCertificateAnswer(pki, cert),
    smartAccount: place.account,
    virtualAccount: place.va,
    exportControlled: outcome.exportControlled,
  } satisfies RegisterResponse);
}
