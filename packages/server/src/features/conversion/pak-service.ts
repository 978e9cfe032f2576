import { randomUUID } from 'node:crypto';
import type { Clock } from '@smartlic/protocol';
import type { Kysely, Transaction } from 'kysely';
import { conflict, notFound } from '../../errors.js';
import type { ConversionRow, Database, PakRow, PakSkuRow, PoolType } from '../../storage/schema.js';
import type { Transactor } from '../../storage/transactor.js';
import { refuseDuplicate } from '../../storage/unique-violation.js';
import { toIso } from '../../util/time.js';
import { badRequest } from '../../validation.js';
import { findAccount, findVirtualAccount } from '../accounts/account-store.js';
import { type Actor, recordEvent } from '../events/event-recorder.js';
import { insertPool } from '../licenses/license-store.js';
import type { ConvertPakInput, ImportPakInput } from './pak-schemas.js';
import {
  findPak,
  findPakByNumber,
  insertConversion,
  insertPak,
  listConversions,
  listPaks,
  markConverted,
  readPakSkus,
} from './pak-store.js';

/** A SKU of a PAK as the admin API shows it. */
export interface PakSkuView {
  sku: string;
  tag: string;
  name: string;
  quantity: number;
  converted: number;
  convertible: number;
  type: PoolType;
  endsAt: string | null;
}

/** A PAK with its SKUs and what is still convertible. */
export interface PakView {
  id: string;
  accountId: string;
  number: string;
  orderNumber: string | null;
  partialFulfilment: boolean;
  importedAt: string;
  status: 'NOT_CONVERTED' | 'PARTIALLY_CONVERTED' | 'CONVERTED';
  skus: PakSkuView[];
}

/** One line of the conversion history (PAK or device-led). */
export interface ConversionView {
  id: string;
  kind: 'pak' | 'device';
  pakId: string | null;
  pakNumber: string | null;
  sku: string | null;
  instanceId: string | null;
  udi: string | null;
  legacyId: string | null;
  vaId: string;
  tag: string;
  quantity: number;
  at: string;
  actor: string;
}

export interface PakServiceDeps {
  db: Kysely<Database>;
  transactor: Transactor;
  clock: Clock;
}

/** PAKs imported into a Smart Account and their conversion into license pools of a VA (SPEC §2). */
export function createPakService({ db, transactor, clock }: PakServiceDeps) {
  return {
    /** Imports a PAK; its number is unique across the authority. */
    async importPak(accountId: string, input: ImportPakInput, actor: Actor): Promise<PakView> {
      const now = clock.now();
      for (const [i, sku] of input.skus.entries()) checkSkuEnd(sku, i, now);
      const pak: PakRow = {
        id: randomUUID(),
        account_id: accountId,
        number: input.number,
        order_number: input.orderNumber ?? null,
        partial_allowed: input.partialFulfilment ? 1 : 0,
        imported_at: now,
      };
      const skus: PakSkuRow[] = input.skus.map((s) => ({
        pak_id: pak.id,
        sku: s.sku,
        tag: s.tag,
        display_name: s.name ?? null,
        quantity: s.quantity,
        converted: 0,
        type: s.type,
        ends_at: s.endsAt ?? null,
      }));
      await transactor.run(async (trx) => {
        if (!(await findAccount(trx, accountId))) throw notFound('Smart account', accountId);
        const imported = () =>
          conflict(`PAK '${input.number}' has already been imported.`, { number: ['is already imported'] });
        if (await findPakByNumber(trx, input.number)) throw imported();
        await refuseDuplicate(insertPak(trx, pak, skus), imported);
        await recordEvent(trx, {
          at: now,
          actor,
          type: 'pak.imported',
          accountId,
          detail: { pakId: pak.id, number: pak.number, skus: skus.map((s) => ({ sku: s.sku, quantity: s.quantity })) },
        });
      });
      return pakView(pak, skus);
    },

    /** The account's PAKs with their convertible quantities. */
    async listPaks(accountId: string): Promise<PakView[]> {
      if (!(await findAccount(db, accountId))) throw notFound('Smart account', accountId);
      const paks = await listPaks(db, accountId);
      const skus = await readPakSkus(
        db,
        paks.map((p) => p.id),
      );
      return paks.map((p) =>
        pakView(
          p,
          skus.filter((s) => s.pak_id === p.id),
        ),
      );
    },

    /**
     * Converts all (no lines) or part of a PAK into license pools of a VA of the same
     * Smart Account, atomically. A PAK without partial fulfilment converts whole or not at
     * all (`CONFLICT` otherwise); asking for more than is convertible is `CONFLICT` too.
     */
    async convertPak(pakId: string, input: ConvertPakInput, actor: Actor): Promise<PakView> {
      return transactor.run(async (trx) => {
        const now = clock.now();
        const pak = await findPak(trx, pakId);
        if (!pak) throw notFound('PAK', pakId);
        const va = await findVirtualAccount(trx, input.vaId);
        if (!va || va.account_id !== pak.account_id) throw notFound('Virtual account', input.vaId);
        const skus = await readPakSkus(trx, [pak.id]);
        const lines = planLines(pak, skus, input);
        const converted: Array<{ sku: string; tag: string; quantity: number }> = [];
        for (const line of lines) {
          const sku = line.sku;
          if (sku.ends_at !== null && sku.ends_at <= now) {
            throw conflict(`SKU '${sku.sku}' of PAK '${pak.number}' has expired and cannot be converted.`);
          }
          if (!(await markConverted(trx, pak.id, sku.sku, line.quantity))) {
            throw conflict(`SKU '${sku.sku}' of PAK '${pak.number}' has fewer licenses left to convert.`);
          }
          await depositPool(trx, {
            vaId: va.id,
            tag: sku.tag,
            name: sku.display_name,
            quantity: line.quantity,
            type: sku.type,
            endsAt: sku.ends_at,
            now,
          });
          await insertConversion(trx, {
            ...historyBase(pak.account_id, va.id, now, actor),
            pak_id: pak.id,
            sku: sku.sku,
            tag: sku.tag,
            quantity: line.quantity,
          });
          converted.push({ sku: sku.sku, tag: sku.tag, quantity: line.quantity });
        }
        await recordEvent(trx, {
          at: now,
          actor,
          type: 'pak.converted',
          accountId: pak.account_id,
          vaId: va.id,
          detail: { pakId: pak.id, number: pak.number, lines: converted },
        });
        return pakView(pak, await readPakSkus(trx, [pak.id]));
      });
    },

    /** The account's conversion history, oldest first: PAK conversions and device-led ones. */
    async listConversions(accountId: string): Promise<ConversionView[]> {
      if (!(await findAccount(db, accountId))) throw notFound('Smart account', accountId);
      const rows = await listConversions(db, accountId);
      const numbers = new Map((await listPaks(db, accountId)).map((p) => [p.id, p.number]));
      return rows.map((r) => conversionView(r, r.pak_id === null ? null : (numbers.get(r.pak_id) ?? null)));
    },
  };
}

export type PakService = ReturnType<typeof createPakService>;

/** Adds a pool of converted licenses to a VA, starting now. */
export async function depositPool(
  trx: Transaction<Database>,
  pool: {
    vaId: string;
    tag: string;
    name: string | null;
    quantity: number;
    type: PoolType;
    endsAt: number | null;
    now: number;
  },
): Promise<void> {
  await insertPool(trx, {
    id: randomUUID(),
    va_id: pool.vaId,
    tag: pool.tag,
    display_name: pool.name,
    quantity: pool.quantity,
    type: pool.type,
    starts_at: pool.now,
    ends_at: pool.endsAt,
    created_at: pool.now,
  });
}

/** The columns every history row shares. */
export function historyBase(
  accountId: string,
  vaId: string,
  at: number,
  actor: Actor,
): Omit<ConversionRow, 'tag' | 'quantity'> {
  return {
    id: randomUUID(),
    account_id: accountId,
    pak_id: null,
    sku: null,
    instance_id: null,
    udi: null,
    legacy_id: null,
    va_id: vaId,
    at,
    actor,
  };
}

interface PlannedLine {
  sku: PakSkuRow;
  quantity: number;
}

function planLines(pak: PakRow, skus: readonly PakSkuRow[], input: ConvertPakInput): PlannedLine[] {
  const bySku = new Map(skus.map((s) => [s.sku, s]));
  const remaining = (s: PakSkuRow) => s.quantity - s.converted;
  const all = skus.filter((s) => remaining(s) > 0).map((s) => ({ sku: s, quantity: remaining(s) }));
  if (all.length === 0) throw conflict(`PAK '${pak.number}' has nothing left to convert.`);
  if (input.lines === undefined) return all;

  const asked = new Map<string, number>();
  for (const [i, line] of input.lines.entries()) {
    if (!bySku.has(line.sku)) throw badRequest({ [`lines.${i}.sku`]: [`is not a SKU of PAK '${pak.number}'`] });
    asked.set(line.sku, (asked.get(line.sku) ?? 0) + line.quantity);
  }
  const planned = [...asked].map(([sku, quantity]) => ({ sku: bySku.get(sku)!, quantity }));
  for (const line of planned) {
    if (line.quantity > remaining(line.sku)) {
      throw conflict(
        `SKU '${line.sku.sku}' of PAK '${pak.number}' has ${remaining(line.sku)} license(s) left to convert, not ${line.quantity}.`,
      );
    }
  }
  const whole = all.every((a) => asked.get(a.sku.sku) === a.quantity) && skus.every((s) => s.converted === 0);
  if (!pak.partial_allowed && !whole) {
    throw conflict(
      `PAK '${pak.number}' does not allow partial fulfilment: convert all of it (omit lines) or nothing.`,
      { lines: ['must convert the whole PAK'] },
    );
  }
  return planned;
}

function checkSkuEnd(sku: ImportPakInput['skus'][number], index: number, now: number): void {
  const field = `skus.${index}.endsAt`;
  if (sku.type === 'perpetual') {
    if (sku.endsAt !== undefined) throw badRequest({ [field]: ['a perpetual license does not end'] });
    return;
  }
  if (sku.endsAt === undefined) throw badRequest({ [field]: [`is required for a ${sku.type} license`] });
  if (sku.endsAt <= now) throw badRequest({ [field]: ['must be in the future'] });
}

function pakView(pak: PakRow, skus: readonly PakSkuRow[]): PakView {
  const converted = skus.reduce((n, s) => n + s.converted, 0);
  const total = skus.reduce((n, s) => n + s.quantity, 0);
  return {
    id: pak.id,
    accountId: pak.account_id,
    number: pak.number,
    orderNumber: pak.order_number,
    partialFulfilment: pak.partial_allowed === 1,
    importedAt: toIso(Number(pak.imported_at)),
    status: converted === 0 ? 'NOT_CONVERTED' : converted === total ? 'CONVERTED' : 'PARTIALLY_CONVERTED',
    skus: skus.map((s) => ({
      sku: s.sku,
      tag: s.tag,
      name: s.display_name ?? s.tag,
      quantity: s.quantity,
      converted: s.converted,
      convertible: s.quantity - s.converted,
      type: s.type,
      endsAt: toIso(s.ends_at === null ? null : Number(s.ends_at)),
    })),
  };
}

function conversionView(row: ConversionRow, pakNumber: string | null): ConversionView {
  return {
    id: row.id,
    kind: row.pak_id === null ? 'device' : 'pak',
    pakId: row.pak_id,
    pakNumber,
    sku: row.sku,
    instanceId: row.instance_id,
    udi: row.udi,
    legacyId: row.legacy_id,
    vaId: row.va_id,
    tag: row.tag,
    quantity: row.quantity,
    at: toIso(Number(row.at)),
    actor: row.actor,
  };
}
