import type { Clock } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import { notFound } from '../../errors.js';
import type { Database } from '../../storage/schema.js';
import type { Transactor } from '../../storage/transactor.js';
import { toIso } from '../../util/time.js';
import { badRequest } from '../../validation.js';
import { findVirtualAccount } from '../accounts/account-store.js';
import { type InstanceComplianceStatus, instanceStatus } from '../compliance/compliance.js';
import type { CoveredBalance } from '../compliance/covered-balances.js';
import { readCoveredBalances } from '../compliance/covered-balances.js';
import { findPolicyDevices } from '../policy/policy-devices.js';
import { assertNotReserved } from '../reservations/reservation-store.js';
import type { TagTreeCache } from '../tags/tag-tree.js';
import type { InstanceKeyCache } from './instance-key-cache.js';
import { removeInstance, silenceAlerts, transferInstance } from './instance-lifecycle.js';
import { type InstanceCursor, listInstances, listUsageOf } from './instance-store.js';

export interface InstanceView {
  id: string;
  pid: string;
  sn: string;
  hostname: string | null;
  softwareTag: string;
  registeredAt: string;
  lastContact: string;
  idCertSerial: string;
  idCertExpiresAt: string;
  exportControlled: boolean;
  usage: Array<{ tag: string; count: number }>;
  status: InstanceComplianceStatus;
  /** E.g. `No contact for 30 days`. */
  alerts: string[];
}

/** What narrows an instance list; with `limit` or `cursor` the answer is a page. */
export interface InstanceQuery {
  search?: string | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

/** One page of instances and the cursor of the next (null at the end). */
export interface InstancePage {
  items: InstanceView[];
  nextCursor: string | null;
}

/** Rows read per statement when walking a whole VA (lists without a limit, reports). */
const WALK_PAGE = 5000;

/** What instances' status and alerts are judged against: the time and the VA's balances. */
export interface ViewContext {
  now: number;
  balances: ReadonlyMap<string, CoveredBalance>;
}

export interface InstanceServiceDeps {
  db: Kysely<Database>;
  clock: Clock;
  transactor: Transactor;
  /** Dropped entries on removal and transfer (the device path caches each instance's VA). */
  keyCache: InstanceKeyCache;
  /** The license hierarchy: which licenses cover which tags. */
  tags: TagTreeCache;
}

/** Product instances of a VA, as the Product Instances tab lists them, with Remove and Transfer. */
export function createInstanceService({ db, clock, transactor, keyCache, tags }: InstanceServiceDeps) {
  /** What each instance's status is judged against: the VA's balances now (maintained totals, no scan). */
  async function contextOf(vaId: string): Promise<ViewContext> {
    const now = clock.now();
    const tree = await tags.get();
    return { now, balances: await readCoveredBalances(db, tree, vaId, now) };
  }

  /** One keyset page of views: the page's rows and their usage only. */
  async function views(
    vaId: string,
    query: { search?: string | undefined; after?: InstanceCursor | undefined; limit: number },
    ctx: ViewContext,
  ): Promise<InstanceView[]> {
    const rows = await listInstances(db, vaId, query);
    const policyDevices = await findPolicyDevices(
      db,
      rows.map((r) => r.id),
    );
    const usage = new Map<string, Array<{ tag: string; count: number }>>();
    for (const u of await listUsageOf(
      db,
      rows.map((r) => r.id),
    )) {
      const list = usage.get(u.instance_id) ?? [];
      list.push({ tag: u.tag, count: Number(u.count) });
      usage.set(u.instance_id, list);
    }
    return rows.map((row) => {
      const used = usage.get(row.id) ?? [];
      return {
        id: row.id,
        pid: row.pid,
        sn: row.sn,
        hostname: row.hostname,
        softwareTag: row.software_tag,
        registeredAt: toIso(row.registered_at),
        lastContact: toIso(row.last_contact_at),
        idCertSerial: row.id_cert_serial,
        idCertExpiresAt: toIso(row.id_cert_expires_at),
        exportControlled: row.export_controlled === 1,
        usage: used,
        status: instanceStatus(used, ctx.balances),
        // A policy device reports as its policy says: the 30/90-day silence rules are not its.
        alerts: policyDevices.has(row.id) ? [] : silenceAlerts(Number(row.last_contact_at), ctx.now),
      };
    });
  }

  /** Every instance of the VA, page after page of `pageSize` (keyset reads: memory stays one page). */
  async function* walk(vaId: string, search: string | undefined, pageSize: number): AsyncGenerator<InstanceView[]> {
    const ctx = await contextOf(vaId);
    let after: InstanceCursor | undefined;
    for (;;) {
      const page = await views(vaId, { search, after, limit: pageSize }, ctx);
      if (page.length > 0) yield page;
      const last = page.at(-1);
      if (!last || page.length < pageSize) return;
      after = cursorOf(last);
    }
  }

  return {
    /** What the VA's instances' status and alerts are judged against now (the lean report reads it once). */
    statusContext: contextOf,

    /** Every instance of the VA (optionally matching `search`). */
    async listInstances(vaId: string, query: InstanceQuery = {}): Promise<InstanceView[]> {
      if (!(await findVirtualAccount(db, vaId))) throw notFound('Virtual account', vaId);
      const all: InstanceView[] = [];
      for await (const page of walk(vaId, query.search, WALK_PAGE)) all.push(...page);
      return all;
    },

    /**
     * Every instance of the VA (optionally matching `search`) in registration order, in pages
     * of `pageSize`, for streamed reports. Throws not-found before the first page.
     */
    async streamInstances(
      vaId: string,
      query: { search?: string | undefined; pageSize?: number } = {},
    ): Promise<AsyncGenerator<InstanceView[]>> {
      if (!(await findVirtualAccount(db, vaId))) throw notFound('Virtual account', vaId);
      return walk(vaId, query.search, query.pageSize ?? WALK_PAGE);
    },

    /** One page of the VA's instances: `limit` (default 50) after `cursor`. */
    async pageInstances(vaId: string, query: InstanceQuery): Promise<InstancePage> {
      if (!(await findVirtualAccount(db, vaId))) throw notFound('Virtual account', vaId);
      const limit = query.limit ?? 50;
      const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
      const items = await views(vaId, { search: query.search, after, limit: limit + 1 }, await contextOf(vaId));
      const page = items.slice(0, limit);
      const last = page.at(-1);
      return { items: page, nextCursor: items.length > limit && last ? encodeCursor(cursorOf(last)) : null };
    },

    /** Removes an instance; its usage goes back to the pool. */
    async removeInstance(instanceId: string, actor: string): Promise<{ id: string; vaId: string }> {
      const now = clock.now();
      const removed = await transactor.run(async (trx) => {
        await assertNotReserved(trx, instanceId, 'removed');
        return removeInstance(trx, instanceId, { now, actor, reason: 'removed by an administrator' });
      });
      keyCache.delete(instanceId);
      return removed;
    },

    /** Moves an instance and its usage to another VA of the same Smart Account. */
    async transferInstance(instanceId: string, toVaId: string, actor: string) {
      const now = clock.now();
      const moved = await transactor.run(async (trx) => {
        await assertNotReserved(trx, instanceId, 'transferred');
        return transferInstance(trx, instanceId, toVaId, { now, actor });
      });
      keyCache.delete(instanceId);
      return moved;
    },
  };
}

export type InstanceService = ReturnType<typeof createInstanceService>;

function cursorOf(view: InstanceView): InstanceCursor {
  return { registeredAt: Date.parse(view.registeredAt), pid: view.pid, sn: view.sn };
}

function encodeCursor(cursor: InstanceCursor): string {
  return Buffer.from(JSON.stringify([cursor.registeredAt, cursor.pid, cursor.sn])).toString('base64url');
}

function decodeCursor(text: string): InstanceCursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 3 &&
      typeof value[0] === 'number' &&
      typeof value[1] === 'string' &&
      typeof value[2] === 'string'
    ) {
      return { registeredAt: value[0], pid: value[1], sn: value[2] };
    }
  } catch {
    // falls through to the error below
  }
  throw badRequest({ cursor: ['is not a cursor this server gave'] });
}
