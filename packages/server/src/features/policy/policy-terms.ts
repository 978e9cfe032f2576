import {
  DEFAULT_POLICY_NAME,
  DEFAULT_POLICY_TERMS,
  LICENSE_CLASSES,
  type LicenseClass,
  type Policy,
} from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import type { Database } from '../../storage/schema.js';

/** The name a device shows for a policy that a Virtual Account customised. */
export const CUSTOM_POLICY_NAME = 'Custom Policy';

/**
 * The policy of a Virtual Account: the vendor's default terms (SPEC §9) for every class, with the
 * VA's custom terms where it set some. Read in the transaction of the answer that carries it.
 */
export async function readVaPolicy(db: Kysely<Database>, vaId: string): Promise<Policy> {
  const rows = await db
    .selectFrom('va_policies')
    .select(['license_class', 'first_report_days', 'frequency_days', 'on_change_days'])
    .where('va_id', '=', vaId)
    .execute();
  const classes = structuredClone(DEFAULT_POLICY_TERMS) as Policy['classes'];
  for (const row of rows) {
    if (!(LICENSE_CLASSES as readonly string[]).includes(row.license_class)) continue;
    classes[row.license_class as LicenseClass] = {
      firstReportDays: Number(row.first_report_days),
      reportingFrequencyDays: Number(row.frequency_days),
      onChangeDays: Number(row.on_change_days),
    };
  }
  return { name: rows.length > 0 ? CUSTOM_POLICY_NAME : DEFAULT_POLICY_NAME, custom: rows.length > 0, classes };
}
