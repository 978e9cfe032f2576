import type { Kysely } from 'kysely';
import type { Database } from '../../storage/schema.js';
import { notPolicyInstance } from '../policy/policy-devices.js';
import { notReservedInstance } from '../reservations/reservation-store.js';

/**
 * In-use count per tag of a VA's instances whose last contact is at or before `silentSince`, by
 * a scan of those instances: the definition that the maintained count
 * (`compliance/silent-usage-store.ts`) is tested against; the license list reads that one.
 */
export async function scanSilentUsage(
  db: Kysely<Database>,
  vaId: string,
  silentSince: number,
): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('instance_usage as u')
    .innerJoin('instances as i', 'i.id', 'u.instance_id')
    .select((eb) => ['u.tag', eb.fn.sum<number>('u.count').as('count')])
    .where('i.va_id', '=', vaId)
    .where('i.last_contact_at', '<=', silentSince)
    .where(notReservedInstance)
    .where(notPolicyInstance)
    .groupBy('u.tag')
    .execute();
  return new Map(rows.map((r) => [r.tag, Number(r.count)]));
}

/** The license-row alert for usage held by instances silent for 30 days or more. */
export function silentUsageAlert(count: number): string {
  return `${count} in use by instances silent for 30+ days`;
}
