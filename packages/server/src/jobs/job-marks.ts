import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.js';

/**
 * Records that `job` did its work on `subject`; true only for the first caller. Inside the
 * job's transaction this makes a second run — even one started at the same time — a no-op.
 */
export async function markOnce(trx: Kysely<Database>, job: string, subject: string, now: number): Promise<boolean> {
  const result = await trx
    .insertInto('job_marks')
    .values({ job, subject, at: now })
    .onConflict((oc) => oc.columns(['job', 'subject']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
}
