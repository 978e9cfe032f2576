import type { LicenseClass } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import type { Database } from '../../storage/schema.js';
import type { DownData } from './sync-format.js';

/**
 * Reads what goes down to a satellite serving `vaIds` of `accountId`: the Smart Account, those
 * VAs, their pools, conversion settings and custom policies, and the whole tag catalogue. Small (pools, not
 * instances), so every response carries all of it and each sync repairs any drift.
 */
export async function readDownData(
  db: Kysely<Database>,
  accountId: string,
  vaIds: readonly string[],
): Promise<DownData> {
  const account = await db
    .selectFrom('smart_accounts')
    .selectAll()
    .where('id', '=', accountId)
    .executeTakeFirstOrThrow();
  const ids = vaIds.length > 0 ? [...vaIds] : [''];
  const vas = await db.selectFrom('virtual_accounts').selectAll().where('id', 'in', ids).orderBy('id').execute();
  const pools = await db.selectFrom('license_pools').selectAll().where('va_id', 'in', ids).orderBy('id').execute();
  const tags = await db.selectFrom('tags').selectAll().orderBy('tag').execute();
  const settings = await db
    .selectFrom('va_conversion_settings')
    .selectAll()
    .where('va_id', 'in', ids)
    .orderBy('va_id')
    .execute();
  const policies = await db
    .selectFrom('va_policies')
    .selectAll()
    .where('va_id', 'in', ids)
    .orderBy('va_id')
    .orderBy('license_class')
    .execute();
  return {
    account: { id: account.id, name: account.name, domain: account.domain, createdAt: Number(account.created_at) },
    vas: vas.map((v) => ({ id: v.id, name: v.name, createdAt: Number(v.created_at) })),
    pools: pools.map((p) => ({
      id: p.id,
      vaId: p.va_id,
      tag: p.tag,
      displayName: p.display_name,
      quantity: Number(p.quantity),
      type: p.type,
      startsAt: Number(p.starts_at),
      endsAt: p.ends_at === null ? null : Number(p.ends_at),
      createdAt: Number(p.created_at),
    })),
    tags: tags.map((t) => ({
      tag: t.tag,
      displayName: t.display_name,
      parentTag: t.parent_tag,
      createdAt: Number(t.created_at),
      updatedAt: Number(t.updated_at),
    })),
    conversionSettings: settings.map((s) => ({
      vaId: s.va_id,
      mode: s.mode,
      maxPerReport: Number(s.max_per_report),
      autoMaxPerLicense: Number(s.auto_max_per_license),
      autoMaxPerDevice: Number(s.auto_max_per_device),
      updatedAt: Number(s.updated_at),
    })),
    policies: policies.map((p) => ({
      vaId: p.va_id,
      licenseClass: p.license_class as LicenseClass,
      firstReportDays: Number(p.first_report_days),
      reportingFrequencyDays: Number(p.frequency_days),
      onChangeDays: Number(p.on_change_days),
      updatedAt: Number(p.updated_at),
    })),
  };
}

/** What applying down data changed, for `sync now`/`import` answers. */
export interface DownCounts {
  vas: number;
  pools: number;
  tags: number;
}

/**
 * Makes the satellite's copy equal to `down` (in the caller's transaction): upserts the account,
 * VAs, pools, tags, settings and custom policies, and deletes pools, settings and policies of
 * those VAs that are no longer upstream. VAs themselves are never deleted here (their instances live on the satellite).
 */
export async function applyDownData(trx: Kysely<Database>, down: DownData): Promise<DownCounts> {
  const a = down.account;
  await trx
    .insertInto('smart_accounts')
    .values({ id: a.id, name: a.name, domain: a.domain, created_at: a.createdAt })
    .onConflict((oc) => oc.column('id').doUpdateSet({ name: a.name, domain: a.domain }))
    .execute();
  for (const va of down.vas) {
    await trx
      .insertInto('virtual_accounts')
      .values({ id: va.id, account_id: a.id, name: va.name, created_at: va.createdAt })
      .onConflict((oc) => oc.column('id').doUpdateSet({ name: va.name, account_id: a.id }))
      .execute();
  }
  // Tags before pools: parents before children (the catalogue may reference parents).
  for (const t of sortParentsFirst(down.tags)) {
    const row = {
      tag: t.tag,
      display_name: t.displayName,
      parent_tag: t.parentTag,
      created_at: t.createdAt,
      updated_at: t.updatedAt,
    };
    await trx
      .insertInto('tags')
      .values(row)
      .onConflict((oc) =>
        oc
          .column('tag')
          .doUpdateSet({ display_name: row.display_name, parent_tag: row.parent_tag, updated_at: row.updated_at }),
      )
      .execute();
  }
  const vaIds = down.vas.map((v) => v.id);
  const poolIds = down.pools.map((p) => p.id);
  if (vaIds.length > 0) {
    let stale = trx.deleteFrom('license_pools').where('va_id', 'in', vaIds);
    if (poolIds.length > 0) stale = stale.where('id', 'not in', poolIds);
    await stale.execute();
  }
  for (const p of down.pools) {
    const row = {
      id: p.id,
      va_id: p.vaId,
      tag: p.tag,
      display_name: p.displayName,
      quantity: p.quantity,
      type: p.type,
      starts_at: p.startsAt,
      ends_at: p.endsAt,
      created_at: p.createdAt,
    };
    const { id: _id, ...update } = row;
    await trx
      .insertInto('license_pools')
      .values(row)
      .onConflict((oc) => oc.column('id').doUpdateSet(update))
      .execute();
  }
  if (vaIds.length > 0) await trx.deleteFrom('va_conversion_settings').where('va_id', 'in', vaIds).execute();
  for (const s of down.conversionSettings) {
    await trx
      .insertInto('va_conversion_settings')
      .values({
        va_id: s.vaId,
        mode: s.mode,
        max_per_report: s.maxPerReport,
        auto_max_per_license: s.autoMaxPerLicense,
        auto_max_per_device: s.autoMaxPerDevice,
        updated_at: s.updatedAt,
      })
      .execute();
  }
  if (down.policies) await applyPolicies(trx, vaIds, down.policies);
  return { vas: down.vas.length, pools: down.pools.length, tags: down.tags.length };
}

/** The served VAs' custom policies become the upstream's (a policy removed there goes here too). */
async function applyPolicies(
  trx: Kysely<Database>,
  vaIds: readonly string[],
  policies: NonNullable<DownData['policies']>,
): Promise<void> {
  if (vaIds.length > 0)
    await trx
      .deleteFrom('va_policies')
      .where('va_id', 'in', [...vaIds])
      .execute();
  for (const p of policies) {
    await trx
      .insertInto('va_policies')
      .values({
        va_id: p.vaId,
        license_class: p.licenseClass,
        first_report_days: p.firstReportDays,
        frequency_days: p.reportingFrequencyDays,
        on_change_days: p.onChangeDays,
        updated_at: p.updatedAt,
      })
      .execute();
  }
}

function sortParentsFirst(tags: DownData['tags']): DownData['tags'] {
  const byTag = new Map(tags.map((t) => [t.tag, t]));
  const out: DownData['tags'] = [];
  const seen = new Set<string>();
  const visit = (t: DownData['tags'][number], depth: number): void => {
    if (seen.has(t.tag) || depth > 50) return;
    const parent = t.parentTag ? byTag.get(t.parentTag) : undefined;
    if (parent) visit(parent, depth + 1);
    seen.add(t.tag);
    out.push(t);
  };
  for (const t of tags) visit(t, 0);
  return out;
}
