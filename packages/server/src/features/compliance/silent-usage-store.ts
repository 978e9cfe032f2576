import { type Kysely, sql } from 'kysely';
import type { Database } from '../../storage/schema.js';
import { readInstanceUsage } from './usage-store.js';

// The usage of silent instances per VA and tag (ADR 0011): `va_silent_usage` holds the usage of
// the instances the silent-instance job has counted (`silent_counted = 1`); the instances that
// fell silent since are one range read of the index (va_id, silent_counted, last_contact_at).
// Every unit that changes a counted instance's contact, usage, VA or existence first takes it
// out of the count (`uncountSilent`), in its own transaction; the job counts it again if it is
// still silent.

/**
 * Counts instance `instanceId` silent if it still is (not counted, last contact at or before
 * `silentSince`, no reservation): its usage is added to its VA's silent usage. Returns whether it was.
 */
export async function countSilent(trx: Kysely<Database>, instanceId: string, silentSince: number): Promise<boolean> {
  const { rows } = await sql<{ va_id: string }>`
    update instances set silent_counted = 1
    where id = ${instanceId} and silent_counted = 0 and last_contact_at <= ${silentSince}
      and not exists (select 1 from reservations r where r.instance_id = instances.id and r.status <> 'returned')
    returning va_id`.execute(trx);
  const row = rows[0];
  if (!row) return false;
  await addSilentUsage(trx, row.va_id, await readInstanceUsage(trx, instanceId), 1);
  return true;
}

/** Takes instance `instanceId` out of the silent count if it is in it (its usage leaves its VA's silent usage). */
export async function uncountSilent(trx: Kysely<Database>, instanceId: string): Promise<void> {
  const { rows } = await sql<{ va_id: string }>`
    update instances set silent_counted = 0 where id = ${instanceId} and silent_counted = 1
    returning va_id`.execute(trx);
  const row = rows[0];
  if (row) await addSilentUsage(trx, row.va_id, await readInstanceUsage(trx, instanceId), -1);
}

async function addSilentUsage(
  trx: Kysely<Database>,
  vaId: string,
  usage: ReadonlyArray<{ tag: string; count: number }>,
  sign: 1 | -1,
): Promise<void> {
  // Rows in one order in every unit (no deadlock between two of them); atomic increments.
  const ordered = [...usage].sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  for (const { tag, count } of ordered) {
    await sql`
      insert into va_silent_usage (va_id, tag, in_use) values (${vaId}, ${tag}, ${sign * count})
      on conflict (va_id, tag) do update set in_use = va_silent_usage.in_use + excluded.in_use`.execute(trx);
  }
}

/**
 * In-use count per tag of a VA's instances without a reservation whose last contact is at or
 * before `silentSince` (not before the silent-instance job's last run: what it counted is in
 * `va_silent_usage`). One statement, so one snapshot on either engine.
 */
export async function readSilentUsage(
  db: Kysely<Database>,
  vaId: string,
  silentSince: number,
): Promise<Map<string, number>> {
  const { rows } = await sql<{ tag: string; in_use: number | string }>`
    select tag, sum(n) as in_use from (
      select tag, in_use as n from va_silent_usage where va_id = ${vaId}
      union all
      select u.tag, u.count as n from instances i inner join instance_usage u on u.instance_id = i.id
        where i.va_id = ${vaId} and i.silent_counted = 0 and i.last_contact_at <= ${silentSince}
          and not exists (select 1 from reservations r where r.instance_id = i.id and r.status <> 'returned')
    ) as silent group by tag`.execute(db);
  return new Map(rows.map((r) => [r.tag, Number(r.in_use)]).filter(([, n]) => n !== 0) as Array<[string, number]>);
}
