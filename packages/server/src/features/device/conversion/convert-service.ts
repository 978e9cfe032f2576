import { randomUUID } from 'node:crypto';
import {
  type ConversionOutcome,
  type ConvertResponse,
  type Envelope,
  PROTOCOL_VERSION,
  SmartlicError,
} from '@smartlic/protocol';
import { sql, type Transaction } from 'kysely';
import type { Database, DeviceConversionReason, DeviceConversionRequestRow } from '../../../storage/schema.js';
import { badRequest } from '../../../validation.js';
import {
  autoConvertedCount,
  insertConversionRequests,
  readConversionSettings,
} from '../../conversion/device-conversion-store.js';
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
type LicenseOutcome = NonNullable<ConvertResponse['licenses']>[number];

/** What a report came to: refused (after its refusal was recorded), or an outcome per license. */
type ReportResult =
  | { refused: SmartlicError }
  | { refused?: undefined; deposited: ConvertResponse['deposited']; licenses: LicenseOutcome[] };

/**
 * Device-led conversion (SPEC §4.5): a registered device reports the legacy licenses it
 * holds. Its VA decides (`va_conversion_settings`): `off` (the default) refuses the report
 * (`CONVERSION_DISABLED`); a report asking for more new licenses than the VA's per-report cap is
 * refused (`CONVERSION_LIMIT`); otherwise each license not reported before is recorded once per
 * (device UDI, legacyId) and deposited at once if it is under the automatic caps (per license
 * and per device) and the VA does not review every conversion, else left pending an admin's
 * approval. Authenticated like `authorize`; the nonce, the decisions, the deposits, the
 * history and the events share one transaction — a refusal commits only the nonce and the
 * `conversion.device-refused` event.
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

  const result = await transactor.run(async (trx) => {
    if (!(await recordNonce(trx, payload.nonce, now))) throw replayedNonce();
    if (!(await touchInstance(trx, identity.id, identity.signedWith.serial, now))) {
      return refuseStaleIdentity(trx, deps, identity);
    }
    await retirePreviousCertificate(trx, identity);
    return decideReport(trx, { instanceId: identity.id, vaId: identity.vaId, now }, payload.licenses);
  });
  forgetRetiredCertificate(deps, identity);
  if (result.refused) throw result.refused;

  return signResponse(pki, {
    type: 'convert-response',
    version: PROTOCOL_VERSION,
    timestamp: clock.now(),
    nonce: payload.nonce,
    instanceId: identity.id,
    deposited: result.deposited,
    alreadyConverted: result.licenses.every((l) => l.outcome === 'already-reported'),
    licenses: result.licenses,
  } satisfies ConvertResponse);
}

async function decideReport(
  trx: Transaction<Database>,
  at: { instanceId: string; vaId: string; now: number },
  licenses: readonly LegacyLicense[],
): Promise<ReportResult> {
  const { rows } = await sql<{ pid: string; sn: string; account_id: string }>`
    select i.pid, i.sn, va.account_id from instances i join virtual_accounts va on va.id = i.va_id
    where i.id = ${at.instanceId}`.execute(trx);
  const instance = rows[0]!;
  const udi = `PID:${instance.pid} SN:${instance.sn}`;
  const actor = deviceActor(at.instanceId);
  const event = (type: 'conversion.device-requested' | 'conversion.device-refused', detail: Record<string, unknown>) =>
    recordEvent(trx, {
      at: at.now,
      actor,
      type,
      accountId: instance.account_id,
      vaId: at.vaId,
      detail: { instanceId: at.instanceId, udi, ...detail },
    });

  const settings = await readConversionSettings(trx, at.vaId);
  if (settings.mode === 'off') {
    await event('conversion.device-refused', { reason: 'disabled', licenses: licenses.length });
    return { refused: new SmartlicError('CONVERSION_DISABLED') };
  }

  const seen = new Set(
    (
      await trx
        .selectFrom('device_conversions')
        .select('legacy_id')
        .where('udi', '=', udi)
        .where(
          'legacy_id',
          'in',
          licenses.map((l) => l.legacyId),
        )
        .execute()
    ).map((r) => r.legacy_id),
  );
  const fresh = licenses.filter((l) => !seen.has(l.legacyId));
  const requested = fresh.reduce((n, l) => n + l.count, 0);
  if (requested > settings.max_per_report) {
    await event('conversion.device-refused', {
      reason: 'over-report-cap',
      requested,
      limit: settings.max_per_report,
    });
    return {
      refused: new SmartlicError('CONVERSION_LIMIT', {
        params: { requested, limit: settings.max_per_report },
        context: { fields: { 'payload.licenses': [`ask for at most ${settings.max_per_report} licenses`] } },
      }),
    };
  }

  let autoUsed = await autoConvertedCount(trx, udi);
  const decided = fresh.map((license): DeviceConversionRequestRow => {
    const reason: DeviceConversionReason =
      settings.mode === 'review'
        ? 'review'
        : license.count > settings.auto_max_per_license
          ? 'over-license-cap'
          : autoUsed + license.count > settings.auto_max_per_device
            ? 'over-device-cap'
            : 'under-caps';
    if (reason === 'under-caps') autoUsed += license.count;
    return {
      id: randomUUID(),
      account_id: instance.account_id,
      va_id: at.vaId,
      instance_id: at.instanceId,
      udi,
      legacy_id: license.legacyId,
      tag: license.tag,
      display_name: license.name ?? null,
      count: license.count,
      type: license.type ?? 'perpetual',
      ends_at: license.endsAt ?? null,
      status: reason === 'under-caps' ? 'approved' : 'pending',
      reason,
      requested_at: at.now,
      decided_at: reason === 'under-caps' ? at.now : null,
      decided_by: reason === 'under-caps' ? 'auto' : null,
    };
  });
  if (decided.length > 0) {
    await trx
      .insertInto('device_conversions')
      .values(decided.map((d) => ({ udi, legacy_id: d.legacy_id, instance_id: at.instanceId, at: at.now })))
      .execute();
    await insertConversionRequests(trx, decided);
  }

  const totals = new Map<string, number>();
  const approved = decided.filter((d) => d.status === 'approved');
  for (const d of approved) {
    await depositPool(trx, {
      vaId: at.vaId,
      tag: d.tag,
      name: d.display_name,
      quantity: d.count,
      type: d.type,
      endsAt: d.ends_at,
      now: at.now,
    });
    await insertConversion(trx, {
      ...historyBase(instance.account_id, at.vaId, at.now, actor),
      instance_id: at.instanceId,
      udi,
      legacy_id: d.legacy_id,
      tag: d.tag,
      quantity: d.count,
    });
    totals.set(d.tag, (totals.get(d.tag) ?? 0) + d.count);
  }

  const outcomeOf = new Map<string, ConversionOutcome>(
    decided.map((d) => [d.legacy_id, d.status === 'approved' ? 'deposited' : 'pending']),
  );
  const outcomes = licenses.map((l) => ({
    legacyId: l.legacyId,
    tag: l.tag,
    count: l.count,
    outcome: outcomeOf.get(l.legacyId) ?? 'already-reported',
  }));
  if (decided.length > 0) {
    await event('conversion.device-requested', {
      licenses: decided.map((d) => ({
        legacyId: d.legacy_id,
        tag: d.tag,
        count: d.count,
        outcome: outcomeOf.get(d.legacy_id),
      })),
    });
  }
  if (approved.length > 0) {
    await recordEvent(trx, {
      at: at.now,
      actor,
      type: 'conversion.device-led',
      accountId: instance.account_id,
      vaId: at.vaId,
      detail: {
        instanceId: at.instanceId,
        udi,
        licenses: approved.map((d) => ({ legacyId: d.legacy_id, tag: d.tag, count: d.count })),
      },
    });
  }
  const pending = decided.filter((d) => d.status === 'pending');
  if (pending.length > 0) {
    await recordEvent(trx, {
      at: at.now,
      actor,
      type: 'conversion.device-pending',
      accountId: instance.account_id,
      vaId: at.vaId,
      detail: {
        instanceId: at.instanceId,
        udi,
        conversions: pending.map((d) => ({
          id: d.id,
          legacyId: d.legacy_id,
          tag: d.tag,
          count: d.count,
          reason: d.reason,
        })),
      },
    });
  }
  return { deposited: [...totals].map(([tag, count]) => ({ tag, count })), licenses: outcomes };
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
