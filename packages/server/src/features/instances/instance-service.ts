import type { Clock } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import { notFound } from '../../errors.js';
import type { Database } from '../../storage/schema.js';
import { toIso } from '../../util/time.js';
import { findVirtualAccount } from '../accounts/account-store.js';
import { readBalances } from '../compliance/balances.js';
import { type InstanceComplianceStatus, instanceStatus } from '../compliance/compliance.js';
import { listInstances, listVaUsage } from './instance-store.js';

export interface InstanceView {
  id: string;
  pid: string;
  sn: string;
  hostname: string | null;
  softwareTag: string;
  registeredAt: string;
  lastContact: string;
  idCertSerial: string;
  idCertExpiresAt: string;
  exportControlled: boolean;
  usage: Array<{ tag: string; count: number }>;
  status: InstanceComplianceStatus;
}

/** Product instances of a VA, as the Product Instances tab lists them. */
export function createInstanceService({ db, clock }: { db: Kysely<Database>; clock: Clock }) {
  return {
    async listInstances(vaId: string): Promise<InstanceView[]> {
      if (!(await findVirtualAccount(db, vaId))) throw notFound('Virtual account', vaId);
      const rows = await listInstances(db, vaId);
      const usage = new Map<string, Array<{ tag: string; count: number }>>();
      for (const u of await listVaUsage(db, vaId)) {
        const list = usage.get(u.instance_id) ?? [];
        list.push({ tag: u.tag, count: u.count });
        usage.set(u.instance_id, list);
      }
      const balances = await readBalances(db, vaId, clock.now());
      return rows.map((row) => {
        const used = usage.get(row.id) ?? [];
        return {
          id: row.id,
          pid: row.pid,
          sn: row.sn,
          hostname: row.hostname,
          softwareTag: row.software_tag,
          registeredAt: toIso(row.registered_at),
          lastContact: toIso(row.last_contact_at),
          idCertSerial: row.id_cert_serial,
          idCertExpiresAt: toIso(row.id_cert_expires_at),
          exportControlled: row.export_controlled === 1,
          usage: used,
          status: instanceStatus(used, balances),
        };
      });
    },
  };
}

export type InstanceService = ReturnType<typeof createInstanceService>;
