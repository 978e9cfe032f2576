import { randomUUID } from 'node:crypto';
import { type Clock, DEFAULT_TIMERS, SmartlicError } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import { type ChangeFeed, createLocalChangeFeed } from '../../cluster/change-feed.js';
import { conflict, notFound } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { Database, LicensePoolRow, PoolType } from '../../storage/schema.js';
import type { Transactor } from '../../storage/transactor.js';
import { isShowableTime, toIso } from '../../util/time.js';
import { badRequest } from '../../validation.js';
import { findVirtualAccount } from '../accounts/account-store.js';
import type { Coverage } from '../compliance/allocation.js';
import { alertsOf } from '../compliance/compliance.js';
import { readCoveredBalances } from '../compliance/covered-balances.js';
import { readSilentUsage } from '../compliance/silent-usage-store.js';
import { readReportedNames } from '../compliance/usage-store.js';
import { recordEvent } from '../events/event-recorder.js';
import { type DefineTagInput, writeTag } from '../tags/tag-service.js';
import type { TagTreeCache } from '../tags/tag-tree.js';
import { expiryAlert, expiryThreshold } from './license-expiry.js';
import { insertPool, readActivePools, readPoolTags } from './license-store.js';
import { type TransferInput, type TransferResult, transferLicenses } from './license-transfer.js';
import { silentUsageAlert } from './silent-usage.js';

export interface AddLicenseInput {
  tag: string;
  count: number;
  name?: string | undefined;
  type: PoolType;
  /** Required for term and subscription licenses; ms since the epoch, in the future. */
  endsAt?: number | undefined;
  /**
   * The tag's parent (generic) tag in the hierarchy. Accepted when the tag already has it;
   * defined with the pool, in the same transaction, when the tag has no parent yet and the
   * caller may define tags (the owner: tags are global); refused otherwise.
   */
  parent?: string | undefined;
}

/** Who adds a pool: whether they may define the global tag catalogue (the owner). */
export interface AddLicenseOptions {
  mayDefineTags?: boolean;
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
  /** The parent (generic) tag in the hierarchy, if any. */
  parent: string | null;
  /** Demand covered by the tag's own pools. */
  coveredByOwn: number;
  /** Demand covered by ancestors' pools (which tag, how many). */
  coveredBy: Coverage[];
  /** Own licenses covering descendants' demand. */
  lentToChildren: number;
  /** The nearest end of an active term or subscription pool. */
  expiresAt: string | null;
}

export interface LicenseServiceDeps {
  db: Kysely<Database>;
  transactor: Transactor;
  clock: Clock;
  /** The license hierarchy: which licenses cover which tags. */
  tags: TagTreeCache;
  /** Tells the other server processes on the database that the tag catalogue changed; default: alone on it. */
  changes?: ChangeFeed;
  /** Where a pool whose end no date can express is reported (once per pool); listings show it as `invalid date`. */
  logger?: Logger;
}

/** License pools of a VA and their balance against usage. */
export function createLicenseService({
  db,
  transactor,
  clock,
  tags: tagCache,
  logger,
  changes = createLocalChangeFeed(),
}: LicenseServiceDeps) {
  const reportedPools = new Set<string>();
  /** Warns once per pool of an end no date can express (a damaged row: the routes refuse such dates). */
  const reportUnshowableEnd = (pool: { id: string; va_id: string; tag: string }, endsAt: number) => {
    if (reportedPools.has(pool.id)) return;
    reportedPools.add(pool.id);
    logger?.warn(
      { poolId: pool.id, vaId: pool.va_id, tag: pool.tag, endsAt },
      'A license pool ends at a time no date can express; listings show it as "invalid date"',
    );
  };
  return {
    /** Adds a pool of `count` licenses of `tag`, active from now. */
    async addLicense(
      vaId: string,
      input: AddLicenseInput,
      actor = 'system',
      options: AddLicenseOptions = {},
    ): Promise<LicensePoolView> {
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
      const definedTag = await transactor.run(async (trx) => {
        const va = await findVirtualAccount(trx, vaId);
        if (!va) throw notFound('Virtual account', vaId);
        const defines = await parentToDefine(trx, input, options.mayDefineTags === true);
        if (defines) await writeTag(trx, defines, { now, actor, changes });
        await insertPool(trx, row);
        await recordEvent(trx, {
          at: now,
          actor,
          type: 'license.added',
          accountId: va.account_id,
          vaId,
          detail: { poolId: row.id, tag: row.tag, quantity: row.quantity, type: row.type, endsAt: toIso(row.ends_at) },
        });
        return defines !== undefined;
      });
      if (definedTag) tagCache.invalidate();
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

    /**
     * One row per tag that has a pool or is in use: quantity active now, in use, surplus
     * with the hierarchy applied, which pools cover the demand, and alerts (shortage,
     * pools expiring within 90/60/30 days).
     */
    async listLicenses(vaId: string): Promise<LicenseSummary[]> {
      if (!(await findVirtualAccount(db, vaId))) throw notFound('Virtual account', vaId);
      const now = clock.now();
      const tree = await tagCache.get();
      const poolTags = await readPoolTags(db, vaId);
      const balances = await readCoveredBalances(db, tree, vaId, now);
      const reported = await readReportedNames(db, vaId);
      const silent = await readSilentUsage(db, vaId, now - DEFAULT_TIMERS.silentAlertMs);
      const ends = new Map<string, number>();
      for (const pool of await readActivePools(db, vaId, now)) {
        if (pool.ends_at === null) continue;
        const end = Number(pool.ends_at);
        if (!isShowableTime(end)) reportUnshowableEnd(pool, end);
        ends.set(pool.tag, Math.min(end, ends.get(pool.tag) ?? end));
      }
      const tags = [...new Set([...poolTags.keys(), ...balances.keys()])].sort();
      return tags.map((tag) => {
        const balance = balances.get(tag);
        const allocation = balance?.allocation;
        const end = ends.get(tag);
        const threshold = end === undefined ? undefined : expiryThreshold(end, now);
        const alerts = balance ? alertsOf(balance) : [];
        if (threshold !== undefined) alerts.push(expiryAlert(threshold));
        const silentCount = silent.get(tag);
        if (silentCount) alerts.push(silentUsageAlert(silentCount));
        return {
          tag,
          name: poolTags.get(tag) ?? balance?.displayName ?? tree.displayName(tag) ?? reported.get(tag) ?? tag,
          quantity: balance?.quantity ?? 0,
          inUse: balance?.inUse ?? 0,
          surplus: balance?.surplus ?? 0,
          alerts,
          parent: tree.parentOf(tag) ?? null,
          coveredByOwn: allocation?.coveredByOwn ?? 0,
          coveredBy: allocation?.coveredByParent ?? [],
          lentToChildren: allocation?.lent ?? 0,
          expiresAt: end === undefined ? null : toIso(end),
        };
      });
    },

    /** Moves licenses of a tag to another VA of the same Smart Account, at most what the VA's allocation leaves free (atomic; both VAs log it). */
    async transferLicenses(vaId: string, input: TransferInput, actor: string): Promise<TransferResult> {
      const now = clock.now();
      // The same hierarchy authorization allocates with: moving a parent's licenses must not uncover children.
      const tree = await tagCache.get();
      return transactor.run((trx) => transferLicenses(trx, vaId, input, { now, actor, tree }));
    },
  };
}

/**
 * The tag definition a pool with `parent` asks for: none when the tag already has that parent;
 * the definition when it has no parent yet and the caller may define tags; else a refusal.
 */
async function parentToDefine(
  trx: Kysely<Database>,
  input: AddLicenseInput,
  mayDefineTags: boolean,
): Promise<DefineTagInput | undefined> {
  if (input.parent === undefined) return undefined;
  const existing = await trx.selectFrom('tags').select('parent_tag').where('tag', '=', input.tag).executeTakeFirst();
  const current = existing?.parent_tag ?? null;
  if (current === input.parent) return undefined;
  if (current !== null) {
    throw conflict(
      `Tag ${input.tag} already has the parent ${current}, not ${input.parent}: add the pool without a parent, or change the tag's definition first.`,
      { parent: [`${input.tag} already has the parent ${current}`] },
    );
  }
  if (!mayDefineTags) {
    throw new SmartlicError('FORBIDDEN', {
      message: `Tag ${input.tag} has no parent yet, and only an owner can define one: tags are shared by every account. Ask an owner to define it, or add the pool without a parent.`,
    });
  }
  return { tag: input.tag, parent: input.parent, ...(input.name ? { name: input.name } : {}) };
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
