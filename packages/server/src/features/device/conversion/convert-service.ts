import { randomUUID } from 'node:crypto';
import {
  type ConversionOutcome,
  type ConvertResponse,
  type Envelope,
  PROTOCOL_VERSION,
  SmartlicError,
} from '@smartlic/protocol';
import { sql, type Transaction } from 'kysely';
import type {
  Database,
  DeviceConversionReason,
  DeviceConversionRequestRow,
  VaConversionSettingRow,
} from '../../../storage/schema.js';
import { badRequest } from '../../../validation.js';
import { uncountSilent } from '../../compliance/silent-usage-store.js';
import {
  autoConvertedCount,
  insertConversionRequests,
  readConversionSettings,
} from '../../conversion/device-conversion-store.js';
import { depositPool, historyBase } from '../../conversion/pak-service.js';
import { insertConversion } from '../../conversion/pak-store.js';
import { deviceActor } from '../../events/device-events.js';
import { type EventType, recordEvent } from '../../events/event-recorder.js';
import { touchInstanceInVa } from '../../instances/instance-store.js';
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
  const { transactor, clock } = deps;
  const pki = deps.pki.current();
  const { payload } = request;
  const identity = await authenticateInstance(deps, request);
  const now = clock.now();
  checkLicenses(payload.licenses, now);

  const result = await transactor.run(async (trx) => {
    if (!(await recordNonce(trx, payload.nonce, now))) throw replayedNonce();
    // The VA is read back: another process may have transferred the instance since its identity was cached.
    const touched = await touchInstanceInVa(trx, identity.id, identity.signedWith.serial, now);
    if (touched === undefined) return refuseStaleIdentity(trx, deps, identity);
    if (touched.silentCounted) await uncountSilent(trx, identity.id);
    await retirePreviousCertificate(trx, identity);
    return decideReport(trx, { instanceId: identity.id, vaId: touched.vaId, now }, payload.licenses);
  });
  forgetRetiredCertificate(deps, identity);
  if (result.refused) throw result.refused;

  return signResponse(
    pki,
    {
      type: 'convert-response',
      version: PROTOCOL_VERSION,
      timestamp: clock.now(),
      nonce: payload.nonce,
      instanceId: identity.id,
      deposited: result.deposited,
      alreadyConverted: result.licenses.every((l) => l.outcome === 'already-reported'),
      licenses: result.licenses,
    } satisfies ConvertResponse,
    payload.signingCertSerial,
  );
}

async function decideReport(
  trx: Transaction<Database>,
  at: { instanceId: string; vaId: string; now: number },
  licenses: readonly LegacyLicense[],
): Promise<ReportResult> {
  const device = await reportingDevice(trx, at);
  const settings = await readConversionSettings(trx, at.vaId);
  if (settings.mode === 'off') {
    await recordReportEvent(trx, device, 'conversion.device-refused', {
      reason: 'disabled',
      licenses: licenses.length,
    });
    return { refused: new SmartlicError('CONVERSION_DISABLED') };
  }
  const seen = await reportedBefore(
    trx,
    device.udi,
    licenses.map((l) => l.legacyId),
  );
  const fresh = licenses.filter((l) => !seen.has(l.legacyId));
  const requested = fresh.reduce((n, l) => n + l.count, 0);
  if (requested > settings.max_per_report) {
    const limit = settings.max_per_report;
    await recordReportEvent(trx, device, 'conversion.device-refused', { reason: 'over-report-cap', requested, limit });
    return {
      refused: new SmartlicError('CONVERSION_LIMIT', {
        params: { requested, limit },
        context: { fields: { 'payload.licenses': [`ask for at most ${limit} licenses`] } },
      }),
    };
  }

  const reasons = decideLicenses(settings, fresh, await autoConvertedCount(trx, device.udi));
  const decided = fresh.map((license, i) => requestRow(device, license, reasons[i]!));
  const deposited = await recordDecisions(trx, device, decided);
  const outcomeOf = new Map<string, ConversionOutcome>(
    decided.map((d) => [d.legacy_id, d.status === 'approved' ? 'deposited' : 'pending']),
  );
  return {
    deposited,
    licenses: licenses.map((l) => ({
      legacyId: l.legacyId,
      tag: l.tag,
      count: l.count,
      outcome: outcomeOf.get(l.legacyId) ?? 'already-reported',
    })),
  };
}

/**
 * Why each newly reported license is deposited at once (`under-caps`) or waits for an admin:
 * the VA reviews every one, it is over the per-license cap, or the device's automatic
 * allowance (`autoUsed` of it spent before this report) would be exceeded. Pure.
 */
export function decideLicenses(
  caps: Pick<VaConversionSettingRow, 'mode' | 'auto_max_per_license' | 'auto_max_per_device'>,
  fresh: ReadonlyArray<{ count: number }>,
  autoUsed: number,
): DeviceConversionReason[] {
  let used = autoUsed;
  return fresh.map((license) => {
    if (caps.mode === 'review') return 'review';
    if (license.count > caps.auto_max_per_license) return 'over-license-cap';
    if (used + license.count > caps.auto_max_per_device) return 'over-device-cap';
    used += license.count;
    return 'under-caps';
  });
}

/** The reporting device as the records name it. */
interface ReportingDevice {
  instanceId: string;
  vaId: string;
  accountId: string;
  udi: string;
  actor: string;
  now: number;
}

async function reportingDevice(
  trx: Transaction<Database>,
  at: { instanceId: string; vaId: string; now: number },
): Promise<ReportingDevice> {
  const { rows } = await sql<{ pid: string; sn: string; account_id: string }>`
    select i.pid, i.sn, va.account_id from instances i join virtual_accounts va on va.id = i.va_id
    where i.id = ${at.instanceId}`.execute(trx);
  const instance = rows[0]!;
  return {
    ...at,
    accountId: instance.account_id,
    udi: `PID:${instance.pid} SN:${instance.sn}`,
    actor: deviceActor(at.instanceId),
  };
}

/** The legacy ids among `legacyIds` this device (UDI) has reported before, whatever became of them. */
async function reportedBefore(trx: Transaction<Database>, udi: string, legacyIds: string[]): Promise<Set<string>> {
  const rows = await trx
    .selectFrom('device_conversions')
    .select('legacy_id')
    .where('udi', '=', udi)
    .where('legacy_id', 'in', legacyIds)
    .execute();
  return new Set(rows.map((r) => r.legacy_id));
}

function requestRow(
  device: ReportingDevice,
  license: LegacyLicense,
  reason: DeviceConversionReason,
): DeviceConversionRequestRow {
  const auto = reason === 'under-caps';
  return {
    id: randomUUID(),
    account_id: device.accountId,
    va_id: device.vaId,
    instance_id: device.instanceId,
    udi: device.udi,
    legacy_id: license.legacyId,
    tag: license.tag,
    display_name: license.name ?? null,
    count: license.count,
    type: license.type ?? 'perpetual',
    ends_at: license.endsAt ?? null,
    status: auto ? 'approved' : 'pending',
    reason,
    requested_at: device.now,
    decided_at: auto ? device.now : null,
    decided_by: auto ? 'auto' : null,
  };
}

/**
 * Records the newly reported licenses (once per UDI and legacy id), deposits the approved
 * ones with their history, and logs the report; answers what was deposited per tag.
 */
async function recordDecisions(
  trx: Transaction<Database>,
  device: ReportingDevice,
  decided: readonly DeviceConversionRequestRow[],
): Promise<ConvertResponse['deposited']> {
  if (decided.length === 0) return [];
  await trx
    .insertInto('device_conversions')
    .values(
      decided.map((d) => ({ udi: device.udi, legacy_id: d.legacy_id, instance_id: device.instanceId, at: device.now })),
    )
    .execute();
  await insertConversionRequests(trx, decided);
  const totals = new Map<string, number>();
  const approved = decided.filter((d) => d.status === 'approved');
  for (const d of approved) {
    await depositPool(trx, {
      vaId: device.vaId,
      tag: d.tag,
      name: d.display_name,
      quantity: d.count,
      type: d.type,
      endsAt: d.ends_at,
      now: device.now,
    });
    await insertConversion(trx, {
      ...historyBase(device.accountId, device.vaId, device.now, device.actor),
      instance_id: device.instanceId,
      udi: device.udi,
      legacy_id: d.legacy_id,
      tag: d.tag,
      quantity: d.count,
    });
    totals.set(d.tag, (totals.get(d.tag) ?? 0) + d.count);
  }
  const pending = decided.filter((d) => d.status === 'pending');
  await recordReportEvent(trx, device, 'conversion.device-requested', {
    licenses: decided.map((d) => ({ legacyId: d.legacy_id, tag: d.tag, count: d.count, status: d.status })),
  });
  if (approved.length > 0) {
    await recordReportEvent(trx, device, 'conversion.device-led', {
      licenses: approved.map((d) => ({ legacyId: d.legacy_id, tag: d.tag, count: d.count })),
    });
  }
  if (pending.length > 0) {
    await recordReportEvent(trx, device, 'conversion.device-pending', {
      conversions: pending.map((d) => ({
        id: d.id,
        legacyId: d.legacy_id,
        tag: d.tag,
        count: d.count,
        reason: d.reason,
      })),
    });
  }
  return [...totals].map(([tag, count]) => ({ tag, count }));
}

function recordReportEvent(
  trx: Transaction<Database>,
  device: ReportingDevice,
  type: Extract<EventType, `conversion.device-${string}`>,
  detail: Record<string, unknown>,
): Promise<void> {
  return recordEvent(trx, {
    at: device.now,
    actor: device.actor,
    type,
    accountId: device.accountId,
    vaId: device.vaId,
    detail: { instanceId: device.instanceId, udi: device.udi, ...detail },
  });
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
