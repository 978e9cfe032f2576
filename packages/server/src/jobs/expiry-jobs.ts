import type { Kysely } from 'kysely';
import { recordEvent } from '../features/events/event-recorder.js';
import { expiryThreshold } from '../features/licenses/license-expiry.js';
import type { Database } from '../storage/schema.js';
import { toIso } from '../util/time.js';
import { markOnce } from './job-marks.js';

/** Logs `token.expired` once for every token whose date has passed (revoked tokens excepted). */
export async function logExpiredTokens(trx: Kysely<Database>, now: number): Promise<number> {
  const rows = await trx
    .selectFrom('tokens as t')
    .innerJoin('virtual_accounts as va', 'va.id', 't.va_id')
    .select(['t.id', 't.va_id', 't.description', 't.expires_at', 'va.account_id'])
    .where('t.expires_at', '<=', now)
    .where('t.revoked_at', 'is', null)
    .orderBy('t.expires_at')
    .execute();
  let count = 0;
  for (const row of rows) {
    if (!(await markOnce(trx, 'token.expired', row.id, now))) continue;
    await recordEvent(trx, {
      at: now,
      actor: 'system',
      type: 'token.expired',
      accountId: row.account_id,
      vaId: row.va_id,
      detail: {
        tokenId: row.id,
        description: row.description,
        expiresAt: toIso(Number(row.expires_at)),
      },
    });
    count++;
  }
  return count;
}

/**
 * License expiry (SPEC §9): `license.expiring` once per pool and threshold (90, 60, 30
 * days) and `license.expired` once when a pool ends; expired pools already stop counting
 * in compliance, which reads pools active at the clock's time.
 */
export async function logLicenseExpiry(
  trx: Kysely<Database>,
  now: number,
): Promise<{ expiring: number; expired: number }> {
  const rows = await trx
    .selectFrom('license_pools as p')
    .innerJoin('virtual_accounts as va', 'va.id', 'p.va_id')
    .select(['p.id', 'p.va_id', 'p.tag', 'p.quantity', 'p.type', 'p.ends_at', 'va.account_id'])
    .where('p.ends_at', 'is not', null)
    .where('p.starts_at', '<=', now)
    .where('p.ends_at', '<=', now + 90 * 86_400_000)
    .orderBy('p.ends_at')
    .execute();
  const outcome = { expiring: 0, expired: 0 };
  for (const row of rows) {
    const endsAt = Number(row.ends_at);
    const base = { at: now, actor: 'system', accountId: row.account_id, vaId: row.va_id };
    const detail = {
      poolId: row.id,
      tag: row.tag,
      quantity: Number(row.quantity),
      type: row.type,
      endsAt: toIso(endsAt),
    };
    if (endsAt <= now) {
      if (await markOnce(trx, 'license.expired', row.id, now)) {
        await recordEvent(trx, { ...base, type: 'license.expired', detail });
        outcome.expired++;
      }
      continue;
    }
    const days = expiryThreshold(endsAt, now);
    if (days !== undefined && (await markOnce(trx, 'license.expiring', `${row.id}:${days}`, now))) {
      await recordEvent(trx, { ...base, type: 'license.expiring', detail: { ...detail, days } });
      outcome.expiring++;
    }
  }
  return outcome;
}
