import { randomUUID } from 'node:crypto';
import type { Clock } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import { notFound } from '../../errors.js';
import type { Database, LicensePoolRow, PoolType } from '../../storage/schema.js';
import type { Transactor } from '../../storage/transactor.js';
import { toIso } from '../../util/time.js';
import { badRequest } from '../../validation.js';
import { findVirtualAccount } from '../accounts/account-store.js';
import { readBalances } from '../compliance/balances.js';
import { alertsOf, surplusOf } from '../compliance/compliance.js';
import { readReportedNames } from '../compliance/usage-store.js';
import { insertPool, readPoolTags } from './license-store.js';

export interface AddLicenseInput {
  tag: string;
  count: number;
  name?: string | undefined;
  type: PoolType;
  /** Required for term and subscription licenses; ms since the epoch, in the future. */
  endsAt?: number | undefined;
}

export interface LicensePoolView {
  id: string;
  tag: string;
  name: string;
  quantity: number;
  type: PoolType;
  startsAt: string;
  endsAt: string | null;
}

/** One row of the Licenses tab: a tag's balance in the VA. */
export interface LicenseSummary {
  tag: string;
  name: string;
  quantity: number;
  inUse: number;
  surplus: number;
  alerts: string[];
}

export interface LicenseServiceDeps {
  db: Kysely<Database>;
  transactor: Transactor;
  clock: Clock;
}

/** License pools of a VA and their balance against usage. */
export function createLicenseService({ db, transactor, clock }: LicenseServiceDeps) {
  return {
    /** Adds a pool of `count` licenses of `tag`, active from now. */
    async addLicense(vaId: string, input: AddLicenseInput): Promise<LicensePoolView> {
      const now = clock.now();
      checkEnd(input, now);
      const row: LicensePoolRow = {
        id: randomUUID(),
        va_id: vaId,
        tag: input.tag,
        display_name: input.name ?? null,
        quantity: input.count,
        type: input.type,
        starts_at: now,
        ends_at: input.endsAt ?? null,
        created_at: now,
      };
      await transactor.run(async (trx) => {
        if (!(await findVirtualAccount(trx, vaId))) throw notFound('Virtual account', vaId);
        await insertPool(trx, row);
      });
      return {
        id: row.id,
        tag: row.tag,
        name: row.display_name ?? row.tag,
        quantity: row.quantity,
        type: row.type,
        startsAt: toIso(row.starts_at),
        endsAt: toIso(row.ends_at),
      };
    },

    /** One row per tag that has a pool or is in use: quantity active now, in use, surplus, alerts. */
    async listLicenses(vaId: string): Promise<LicenseSummary[]> {
      if (!(await findVirtualAccount(db, vaId))) throw notFound('Virtual account', vaId);
      const poolTags = await readPoolTags(db, vaId);
      const balances = await readBalances(db, vaId, clock.now());
      const reported = await readReportedNames(db, vaId);
      const tags = [...new Set([...poolTags.keys(), ...balances.keys()])].sort();
      return tags.map((tag) => {
        const balance = balances.get(tag) ?? { quantity: 0, inUse: 0, displayName: null };
        return {
          tag,
          name: poolTags.get(tag) ?? balance.displayName ?? reported.get(tag) ?? tag,
          quantity: balance.quantity,
          inUse: balance.inUse,
          surplus: surplusOf(balance),
          alerts: alertsOf(balance),
        };
      });
    },
  };
}

export type LicenseService = ReturnType<typeof createLicenseService>;

function checkEnd(input: AddLicenseInput, now: number): void {
  if (input.type === 'perpetual') {
    if (input.endsAt !== undefined) {
      throw badRequest({ endsAt: ['a perpetual license does not end; use type term or subscription'] });
    }
    return;
  }
  if (input.endsAt === undefined) {
    throw badRequest({ endsAt: [`is required for a ${input.type} license`] });
  }
  if (input.endsAt <= now) {
    throw badRequest({ endsAt: ['must be in the future'] });
  }
}
