import { createPublicKey, type KeyObject } from 'node:crypto';
import { type ComplianceStatus, type RumReport, type SignedRumReport, SmartlicError } from '@smartlic/protocol';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../../storage/schema.js';
import { entitlementStatus, overallStatus } from '../compliance/compliance.js';
import { readCoveredBalances } from '../compliance/covered-balances.js';
import { readInstanceUsage, replaceInstanceUsage, type UsageEntry } from '../compliance/usage-store.js';
import { verifyDeviceSignature } from '../device/device-signature.js';
import { recordAuthorizationChanges } from '../events/device-events.js';
import { recordEvent } from '../events/event-recorder.js';
import type { TagTree } from '../tags/tag-tree.js';

/** A product instance whose reports are being recorded, with the keys its reports may be signed with. */
export interface ReportingDevice {
  id: string;
  vaId: string;
  pid: string;
  sn: string;
  /** Public keys by ID certificate serial: the current one and a previous one still accepted. */
  keys: Map<string, KeyObject>;
}

/** Reads a product instance and its keys; undefined when there is none. */
export async function loadReportingDevice(
  db: Kysely<Database>,
  instanceId: string,
): Promise<ReportingDevice | undefined> {
  const row = await db
    .selectFrom('instances')
    .select([
      'id',
      'va_id',
      'pid',
      'sn',
      'public_key_spki',
      'id_cert_serial',
      'previous_id_cert_serial',
      'previous_public_key_spki',
    ])
    .where('id', '=', instanceId)
    .executeTakeFirst();
  if (!row) return undefined;
  const keys = new Map<string, KeyObject>([[row.id_cert_serial, spkiKey(row.public_key_spki)]]);
  if (row.previous_id_cert_serial && row.previous_public_key_spki) {
    keys.set(row.previous_id_cert_serial, spkiKey(row.previous_public_key_spki));
  }
  return { id: row.id, vaId: row.va_id, pid: row.pid, sn: row.sn, keys };
}

function spkiKey(base64: string): KeyObject {
  return createPublicKey({ key: Buffer.from(base64, 'base64'), format: 'der', type: 'spki' });
}

/**
 * Checks every report before anything is recorded: each must be of `device` (its instance id and
 * UDI) and signed with one of its keys over the payload as received. One bad report refuses them
 * all: `BAD_REQUEST` for another device's report, `SIGNATURE_MISMATCH` for an altered one.
 */
export async function verifyReports(
  device: ReportingDevice,
  reports: readonly SignedRumReport[],
  received: readonly unknown[],
): Promise<void> {
  for (const [i, report] of reports.entries()) {
    const { payload, signature } = report;
    if (payload.instanceId !== device.id || payload.udi.pid !== device.pid || payload.udi.sn !== device.sn) {
      throw new SmartlicError('BAD_REQUEST', {
        message: `Report ${payload.reportId} is of another product instance (PID:${payload.udi.pid} SN:${payload.udi.sn}); nothing was recorded.`,
        context: { fields: { [`reports.${i}.payload.instanceId`]: ['is not the reporting product instance'] } },
      });
    }
    const key = device.keys.get(payload.idCertSerial);
    const raw = (received[i] as { payload?: unknown } | undefined)?.payload;
    if (!key || signature.certSerial !== payload.idCertSerial) throw alteredReport(payload.reportId);
    await verifyDeviceSignature({ payload: raw, signature }, key).catch(() => {
      throw alteredReport(payload.reportId);
    });
  }
}

function alteredReport(reportId: string): SmartlicError {
  return new SmartlicError('SIGNATURE_MISMATCH', {
    message: `Report ${reportId}: data and signature do not match (altered, or not signed by this product instance); nothing was recorded.`,
  });
}

/** What recording a batch of reports did. */
export interface RecordedReports {
  /** Every report id of the batch: all are recorded now (the ACK lists them). */
  reportIds: string[];
  /** How many were new (the others had been recorded before and counted nothing again). */
  recorded: number;
  /** Whether the instance's usage changed. */
  usageChanged: boolean;
}

/**
 * In the unit's transaction: records each report once by its id (`on conflict do nothing`), and
 * when the newest new report is newer than the device's last one, its last measurement of each tag
 * becomes the instance's usage — the same usage store, totals, compliance and events as an
 * authorization. Reports already recorded change nothing.
 */
export async function recordReports(
  trx: Transaction<Database>,
  tree: TagTree,
  device: ReportingDevice,
  reports: readonly RumReport[],
  at: { now: number; actor: string; via: 'online' | 'file' },
): Promise<RecordedReports> {
  const { now } = at;
  const unique = new Map(reports.map((r) => [r.reportId, r]));
  const fresh: RumReport[] = [];
  for (const report of unique.values()) {
    const result = await sql`insert into policy_reports (report_id, instance_id, created_at, received_at)
      values (${report.reportId}, ${device.id}, ${report.createdAt}, ${now}) on conflict (report_id) do nothing`.execute(
      trx,
    );
    if (result.numAffectedRows === 1n) fresh.push(report);
  }
  const last = await trx
    .selectFrom('policy_devices')
    .select(['last_report_created_at'])
    .where('instance_id', '=', device.id)
    .executeTakeFirst();
  const newest = fresh.reduce<RumReport | undefined>((a, r) => (a && a.createdAt >= r.createdAt ? a : r), undefined);
  let usageChanged = false;
  if (newest && (last?.last_report_created_at == null || newest.createdAt >= Number(last.last_report_created_at))) {
    usageChanged = await applyUsage(trx, tree, device, usageOf(newest), now);
    await trx
      .insertInto('policy_devices')
      .values({
        instance_id: device.id,
        trusted_at: now,
        last_report_id: newest.reportId,
        last_report_created_at: newest.createdAt,
        last_ack_at: now,
      })
      .onConflict((oc) =>
        oc.column('instance_id').doUpdateSet({
          last_report_id: newest.reportId,
          last_report_created_at: newest.createdAt,
          last_ack_at: now,
        }),
      )
      .execute();
  } else if (last) {
    await trx.updateTable('policy_devices').set({ last_ack_at: now }).where('instance_id', '=', device.id).execute();
  }
  await sql`update instances set last_contact_at = ${now} where id = ${device.id}`.execute(trx);
  await recordEvent(trx, {
    at: now,
    actor: at.actor,
    type: 'usage.reported',
    vaId: device.vaId,
    detail: { instanceId: device.id, via: at.via, reports: unique.size, recorded: fresh.length, usageChanged },
  });
  return { reportIds: [...unique.keys()], recorded: fresh.length, usageChanged };
}

/** A report's usage: per tag, the count of its last measurement. */
export function usageOf(report: RumReport): UsageEntry[] {
  return report.usage.map((u) => {
    const last = u.measurements.reduce((a, m) => (m.end >= a.end ? m : a));
    return { tag: u.tag, count: last.count, displayName: null };
  });
}

async function applyUsage(
  trx: Transaction<Database>,
  tree: TagTree,
  device: ReportingDevice,
  next: UsageEntry[],
  now: number,
): Promise<boolean> {
  const current = await readInstanceUsage(trx, device.id);
  const owner = { instanceId: device.id, vaId: device.vaId };
  const usageChanged = await replaceInstanceUsage(trx, owner, current, next);
  const inUse = next.filter((e) => e.count > 0);
  const balances = await readCoveredBalances(
    trx,
    tree,
    device.vaId,
    now,
    inUse.map((e) => e.tag),
  );
  const status: ComplianceStatus = overallStatus(inUse.map((e) => entitlementStatus(e.count, balances.get(e.tag))));
  const previous = await trx
    .selectFrom('instances')
    .select('compliance_status')
    .where('id', '=', device.id)
    .executeTakeFirst();
  await recordAuthorizationChanges(trx, {
    instanceId: device.id,
    vaId: device.vaId,
    at: now,
    usageChanged,
    previousStatus: previous?.compliance_status ?? null,
    before: current,
    after: inUse,
    status,
  });
  return usageChanged;
}
