import type { Clock } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import { conflict, notFound } from '../../errors.js';
import type {
  Database,
  DeviceConversionRequestRow,
  DeviceConversionStatus,
  VaConversionSettingRow,
} from '../../storage/schema.js';
import type { Transactor } from '../../storage/transactor.js';
import { toIso } from '../../util/time.js';
import { findVirtualAccount } from '../accounts/account-store.js';
import { type Actor, recordEvent } from '../events/event-recorder.js';
import type {
  ConversionSettingsInput,
  ConversionSettingsView,
  DeviceConversionView,
} from './device-conversion-schemas.js';
import {
  decideConversionRequest,
  findConversionRequest,
  listConversionRequests,
  readConversionSettings,
  writeConversionSettings,
} from './device-conversion-store.js';
import { depositPool, historyBase } from './pak-service.js';
import { insertConversion } from './pak-store.js';

export interface DeviceConversionServiceDeps {
  db: Kysely<Database>;
  transactor: Transactor;
  clock: Clock;
}

/**
 * Device-led conversion as administrators control it (SPEC §4.5): each VA's settings and caps
 * (off until an admin turns it on), and the licenses devices reported that wait for an admin's
 * approval; approving deposits the pool, records the history and the event in one transaction.
 */
export function createDeviceConversionService({ db, transactor, clock }: DeviceConversionServiceDeps) {
  const requireVa = async (trx: Kysely<Database>, vaId: string) => {
    const va = await findVirtualAccount(trx, vaId);
    if (!va) throw notFound('Virtual account', vaId);
    return va;
  };

  const decide = async (
    id: string,
    status: Exclude<DeviceConversionStatus, 'pending'>,
    actor: Actor,
    note: string | undefined,
  ): Promise<DeviceConversionView> =>
    transactor.run(async (trx) => {
      const now = clock.now();
      const row = await findConversionRequest(trx, id);
      if (!row) throw notFound('Device conversion', id);
      if (row.status !== 'pending') {
        throw conflict(`Device conversion '${id}' was already ${row.status}; only a pending one can be decided.`);
      }
      if (status === 'approved' && row.ends_at !== null && row.ends_at <= now) {
        throw conflict(`Device conversion '${id}' is of a ${row.type} license that has ended; reject it instead.`);
      }
      if (!(await decideConversionRequest(trx, id, { status, at: now, by: actor }))) {
        throw conflict(`Device conversion '${id}' was decided meanwhile.`);
      }
      if (status === 'approved') {
        await depositPool(trx, {
          vaId: row.va_id,
          tag: row.tag,
          name: row.display_name,
          quantity: row.count,
          type: row.type,
          endsAt: row.ends_at,
          now,
        });
        await insertConversion(trx, {
          ...historyBase(row.account_id, row.va_id, now, actor),
          instance_id: row.instance_id,
          udi: row.udi,
          legacy_id: row.legacy_id,
          tag: row.tag,
          quantity: row.count,
        });
      }
      await recordEvent(trx, {
        at: now,
        actor,
        type: status === 'approved' ? 'conversion.device-approved' : 'conversion.device-rejected',
        accountId: row.account_id,
        vaId: row.va_id,
        detail: {
          conversionId: row.id,
          instanceId: row.instance_id,
          udi: row.udi,
          legacyId: row.legacy_id,
          tag: row.tag,
          count: row.count,
          ...(note === undefined ? {} : { note }),
        },
      });
      return conversionView({ ...row, status, decided_at: now, decided_by: actor });
    });

  return {
    async getSettings(vaId: string): Promise<ConversionSettingsView> {
      await requireVa(db, vaId);
      return settingsView(await readConversionSettings(db, vaId));
    },

    /** Changes what `input` names of a VA's settings; the change is an event. */
    async setSettings(vaId: string, input: ConversionSettingsInput, actor: Actor): Promise<ConversionSettingsView> {
      return transactor.run(async (trx) => {
        const va = await requireVa(trx, vaId);
        const now = clock.now();
        const before = await readConversionSettings(trx, vaId);
        const row: VaConversionSettingRow = {
          va_id: vaId,
          mode: input.mode ?? before.mode,
          max_per_report: input.maxLicensesPerReport ?? before.max_per_report,
          auto_max_per_license: input.autoMaxPerLicense ?? before.auto_max_per_license,
          auto_max_per_device: input.autoMaxPerDevice ?? before.auto_max_per_device,
          updated_at: now,
        };
        await writeConversionSettings(trx, row);
        const view = settingsView(row);
        const { vaId: _, updatedAt: __, ...detail } = view;
        await recordEvent(trx, {
          at: now,
          actor,
          type: 'va.conversion-settings',
          accountId: va.account_id,
          vaId,
          detail,
        });
        return view;
      });
    },

    /** A VA's device-led conversions, oldest first (only pending ones, or approved, or rejected, when asked). */
    async list(vaId: string, status?: DeviceConversionStatus): Promise<DeviceConversionView[]> {
      await requireVa(db, vaId);
      return (await listConversionRequests(db, vaId, status)).map(conversionView);
    },

    /** Deposits a pending conversion's licenses into its VA. */
    approve(id: string, actor: Actor): Promise<DeviceConversionView> {
      return decide(id, 'approved', actor, undefined);
    },

    /** Refuses a pending conversion: nothing is deposited, and the device's report of it stays answered. */
    reject(id: string, actor: Actor, note?: string): Promise<DeviceConversionView> {
      return decide(id, 'rejected', actor, note);
    },
  };
}

export type DeviceConversionService = ReturnType<typeof createDeviceConversionService>;

function settingsView(row: Omit<VaConversionSettingRow, 'updated_at'> & { updated_at: number | null }) {
  return {
    vaId: row.va_id,
    mode: row.mode,
    maxLicensesPerReport: row.max_per_report,
    autoMaxPerLicense: row.auto_max_per_license,
    autoMaxPerDevice: row.auto_max_per_device,
    updatedAt: toIso(row.updated_at),
  };
}

function conversionView(row: DeviceConversionRequestRow): DeviceConversionView {
  return {
    id: row.id,
    vaId: row.va_id,
    instanceId: row.instance_id,
    udi: row.udi,
    legacyId: row.legacy_id,
    tag: row.tag,
    name: row.display_name,
    count: row.count,
    type: row.type,
    endsAt: toIso(row.ends_at === null ? null : Number(row.ends_at)),
    status: row.status,
    reason: row.reason,
    requestedAt: toIso(Number(row.requested_at)),
    decidedAt: toIso(row.decided_at === null ? null : Number(row.decided_at)),
    decidedBy: row.decided_by,
  };
}
