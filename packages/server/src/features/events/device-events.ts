import type { ComplianceStatus } from '@smartlic/protocol';
import { sql, type Transaction } from 'kysely';
import type { Database } from '../../storage/schema.js';
import type { UsageEntry } from '../compliance/usage-store.js';
import { recordEvent } from './event-recorder.js';

/** The event-log actor of a device. */
export function deviceActor(instanceId: string): string {
  return `device:${instanceId}`;
}

/**
 * Records what an authorization changed, and nothing when it changed nothing (the hot
 * path): `instance.usage-changed` when the usage rows changed, and
 * `instance.compliance-changed` when the instance's status differs from its last one (a
 * first status counts as a change only when it is `OutOfCompliance`).
 */
export async function recordAuthorizationChanges(
  trx: Transaction<Database>,
  change: {
    instanceId: string;
    vaId: string;
    at: number;
    usageChanged: boolean;
    /** The instance's status before this authorization (null: never judged). */
    previousStatus: string | null;
    before: readonly UsageEntry[];
    after: readonly UsageEntry[];
    status: ComplianceStatus;
  },
): Promise<void> {
  const { instanceId, vaId, at } = change;
  const actor = deviceActor(instanceId);
  if (change.usageChanged) {
    await recordEvent(trx, {
      at,
      actor,
      type: 'instance.usage-changed',
      vaId,
      detail: { instanceId, before: usageList(change.before), after: usageList(change.after) },
    });
  }
  const previous = change.previousStatus;
  if (previous === change.status) return;
  await sql`update instances set compliance_status = ${change.status} where id = ${instanceId}`.execute(trx);
  if (previous === null && change.status === 'InCompliance') return;
  await recordEvent(trx, {
    at,
    actor,
    type: 'instance.compliance-changed',
    vaId,
    detail: { instanceId, from: previous, to: change.status },
  });
}

function usageList(entries: readonly UsageEntry[]): Array<{ tag: string; count: number }> {
  return entries.filter((e) => e.count > 0).map((e) => ({ tag: e.tag, count: e.count }));
}
