import { type Kysely, type SqlBool, sql } from 'kysely';
import type { Database } from '../../storage/schema.js';

/**
 * Records (in the trust code's transaction) that an instance runs the policy model. Its contact is
 * governed by its policy's reporting deadlines, not by the registration model's 30/90/365-day
 * silence rules (ADR 0018).
 */
export async function markPolicyDevice(trx: Kysely<Database>, instanceId: string, now: number): Promise<void> {
  await trx
    .insertInto('policy_devices')
    .values({
      instance_id: instanceId,
      trusted_at: now,
      last_report_id: null,
      last_report_created_at: null,
      last_ack_at: null,
    })
    .onConflict((oc) => oc.column('instance_id').doUpdateSet({ trusted_at: now }))
    .execute();
}

/** A filter on `instances as i`: not a product instance of the policy model. */
export const notPolicyInstance = sql<SqlBool>`not exists (select 1 from policy_devices p where p.instance_id = i.id)`;

/** Which of these instances (at most a page of them: one statement) run the policy model. */
export async function findPolicyDevices(db: Kysely<Database>, instanceIds: readonly string[]): Promise<Set<string>> {
  if (instanceIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('policy_devices')
    .select('instance_id')
    .where('instance_id', 'in', [...instanceIds])
    .execute();
  return new Set(rows.map((r) => r.instance_id));
}
