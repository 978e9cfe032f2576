import { DEFAULT_TIMERS } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import { countSilent } from '../features/compliance/silent-usage-store.js';
import { readInstanceUsage, releaseInstanceUsage } from '../features/compliance/usage-store.js';
import { recordEvent } from '../features/events/event-recorder.js';
import { removeInstance } from '../features/instances/instance-lifecycle.js';
import { notPolicyInstance } from '../features/policy/policy-devices.js';
import { notReservedInstance } from '../features/reservations/reservation-store.js';
import type { Database } from '../storage/schema.js';
import { toIso } from '../util/time.js';
import { markOnce } from './job-marks.js';

/** What one run of {@link handleSilentInstances} did. */
export interface SilentInstancesOutcome {
  alerted: number;
  released: number;
  removed: string[];
}

/**
 * Instances that have not communicated (SPEC §5): an alert at 30 days, their usage back in
 * the pool at 90 days, removal at one year. Each step is marked per period of silence
 * (instance and last contact), so it happens once; a device that comes back and falls
 * silent again starts over. Each silent instance is counted in its VA's silent usage
 * (`countSilent`), which the license list reads instead of scanning silent instances.
 */
export async function handleSilentInstances(trx: Kysely<Database>, now: number): Promise<SilentInstancesOutcome> {
  const outcome: SilentInstancesOutcome = { alerted: 0, released: 0, removed: [] };
  const rows = await trx
    .selectFrom('instances as i')
    .innerJoin('virtual_accounts as va', 'va.id', 'i.va_id')
    .select(['i.id', 'i.va_id', 'i.pid', 'i.sn', 'i.last_contact_at', 'i.silent_counted', 'va.account_id'])
    .where('i.last_contact_at', '<=', now - DEFAULT_TIMERS.silentAlertMs)
    .where(notReservedInstance)
    .where(notPolicyInstance)
    // Instances of a VA a satellite serves are mirrors: the satellite judges their silence (SPEC §8).
    .where('i.va_id', 'not in', (eb) => eb.selectFrom('satellite_vas').select('va_id'))
    .orderBy('i.last_contact_at')
    .orderBy('i.id')
    .execute();
  for (const row of rows) {
    const lastContact = Number(row.last_contact_at);
    const silentDays = Math.floor((now - lastContact) / 86_400_000);
    const subject = `${row.id}@${lastContact}`;
    const base = { at: now, actor: 'system', accountId: row.account_id, vaId: row.va_id };
    const detail = {
      instanceId: row.id,
      pid: row.pid,
      sn: row.sn,
      lastContact: toIso(lastContact),
      silentDays,
    };
    if (await markOnce(trx, 'instance.silent', subject, now)) {
      await recordEvent(trx, { ...base, type: 'instance.silent', detail });
      outcome.alerted++;
    }
    let counted = Number(row.silent_counted) === 1;
    if (
      now - lastContact >= DEFAULT_TIMERS.silentReleaseMs &&
      (await markOnce(trx, 'instance.usage-released', subject, now))
    ) {
      counted = false; // releasing takes it out of the silent count
      const usage = await readInstanceUsage(trx, row.id);
      await releaseInstanceUsage(trx, { instanceId: row.id, vaId: row.va_id });
      await recordEvent(trx, {
        ...base,
        type: 'instance.usage-released',
        detail: { ...detail, released: usage.map((u) => ({ tag: u.tag, count: u.count })) },
      });
      outcome.released++;
    }
    if (now - lastContact >= DEFAULT_TIMERS.silentRemoveMs) {
      await removeInstance(trx, row.id, { now, actor: 'system', reason: 'no contact for one year' });
      outcome.removed.push(row.id);
    } else if (!counted) {
      await countSilent(trx, row.id, now - DEFAULT_TIMERS.silentAlertMs);
    }
  }
  return outcome;
}
