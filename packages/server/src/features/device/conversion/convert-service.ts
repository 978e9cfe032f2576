import { type ConvertResponse, type Envelope, PROTOCOL_VERSION } from '@smartlic/protocol';
import { sql, type Transaction } from 'kysely';
import type { Database } from '../../../storage/schema.js';
import { badRequest } from '../../../validation.js';
import { depositPool, historyBase } from '../../conversion/pak-service.js';
import { insertConversion } from '../../conversion/pak-store.js';
import { deviceActor } from '../../events/device-events.js';
import { recordEvent } from '../../events/event-recorder.js';
import { touchInstance } from '../../instances/instance-store.js';
import { signResponse } from '../../pki/response-signer.js';
import type { DeviceDeps } from '../device-deps.js';
import {
  authenticateInstance,
  forgetRetiredCertificate,
  refuseStaleIdentity,
  retirePreviousCertificate,
} from '../device-identity.js';
import type { DevicePayload, DeviceRequest } from '../device-request.js';
import { recordNonce } from '../nonce-store.js';
import { replayedNonce } from '../replay.js';

type LegacyLicense = DevicePayload<'convert'>['licenses'][number];

/**
 * Device-led conversion (SPEC §4.5): a registered device reports the legacy licenses it
 * holds, and each is deposited into its VA as a pool, once per (device UDI, legacyId):
 * a second report of the same license deposits nothing. Authenticated like `authorize`;
 * the nonce, the deposits, the history and the event share one transaction.
 */
export async function convertDeviceLicenses(
  deps: DeviceDeps,
  request: DeviceRequest<'convert'>,
): Promise<Envelope<ConvertResponse>> {
  const { transactor, clock, pki } = deps;
  const { payload } = request;
  const identity = await authenticateInstance(deps, request);
  const now = clock.now();
  checkLicenses(payload.licenses, now);

  const deposited = await transactor.run(async (trx) => {
    if (!(await recordNonce(trx, payload.nonce, now))) throw replayedNonce();
    if (!(await touchInstance(trx, identity.id, identity.signedWith.serial, now))) {
      return refuseStaleIdentity(trx, deps, identity);
    }
    await retirePreviousCertificate(trx, identity);
    return depositOnce(trx, { instanceId: identity.id, vaId: identity.vaId, now }, payload.licenses);
  });
  forgetRetiredCertificate(deps, identity);

  return signResponse(pki, {
    type: 'convert-response',
    version: PROTOCOL_VERSION,
    timestamp: clock.now(),
    nonce: payload.nonce,
    instanceId: identity.id,
    deposited,
    alreadyConverted: deposited.length === 0,
  } satisfies ConvertResponse);
}

async function depositOnce(
  trx: Transaction<Database>,
  at: { instanceId: string; vaId: string; now: number },
  licenses: readonly LegacyLicense[],
): Promise<Array<{ tag: string; count: number }>> {
  const { rows } = await sql<{ pid: string; sn: string; account_id: string }>`
    select i.pid, i.sn, va.account_id from instances i join virtual_accounts va on va.id = i.va_id
    where i.id = ${at.instanceId}`.execute(trx);
  const instance = rows[0]!;
  const udi = `PID:${instance.pid} SN:${instance.sn}`;
  const actor = deviceActor(at.instanceId);
  const totals = new Map<string, number>();
  const converted: Array<{ legacyId: string; tag: string; count: number }> = [];
  for (const license of licenses) {
    const seen = await trx
      .selectFrom('device_conversions')
      .select('legacy_id')
      .where('udi', '=', udi)
      .where('legacy_id', '=', license.legacyId)
      .executeTakeFirst();
    if (seen) continue;
    await trx
      .insertInto('device_conversions')
      .values({ udi, legacy_id: license.legacyId, instance_id: at.instanceId, at: at.now })
      .execute();
    await depositPool(trx, {
      vaId: at.vaId,
      tag: license.tag,
      name: license.name ?? null,
      quantity: license.count,
      type: license.type ?? 'perpetual',
      endsAt: license.endsAt ?? null,
      now: at.now,
    });
    await insertConversion(trx, {
      ...historyBase(instance.account_id, at.vaId, at.now, actor),
      instance_id: at.instanceId,
      udi,
      legacy_id: license.legacyId,
      tag: license.tag,
      quantity: license.count,
    });
    converted.push({ legacyId: license.legacyId, tag: license.tag, count: license.count });
    totals.set(license.tag, (totals.get(license.tag) ?? 0) + license.count);
  }
  if (converted.length > 0) {
    await recordEvent(trx, {
      at: at.now,
      actor,
      type: 'conversion.device-led',
      accountId: instance.account_id,
      vaId: at.vaId,
      detail: { instanceId: at.instanceId, udi, licenses: converted },
    });
  }
  return [...totals].map(([tag, count]) => ({ tag, count }));
}

function checkLicenses(licenses: readonly LegacyLicense[], now: number): void {
  const fields: Record<string, string[]> = {};
  const ids = new Set<string>();
  licenses.forEach((license, i) => {
    if (ids.has(license.legacyId)) fields[`payload.licenses.${i}.legacyId`] = ['is named twice'];
    ids.add(license.legacyId);
    const type = license.type ?? 'perpetual';
    if (type === 'perpetual' && license.endsAt !== undefined) {
      fields[`payload.licenses.${i}.endsAt`] = ['a perpetual license does not end'];
    } else if (type !== 'perpetual' && (license.endsAt === undefined || license.endsAt <= now)) {
      fields[`payload.licenses.${i}.endsAt`] = [`is required for a ${type} license and must be in the future`];
    }
  });
  if (Object.keys(fields).length > 0) throw badRequest(fields);
}
