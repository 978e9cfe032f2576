import type { Kysely } from 'kysely';
import type { Database, SmartAccountRow, VirtualAccountRow } from '../../storage/schema.js';

export async function insertAccount(db: Kysely<Database>, row: SmartAccountRow): Promise<void> {
  await db.insertInto('smart_accounts').values(row).execute();
}

export async function findAccount(db: Kysely<Database>, id: string): Promise<SmartAccountRow | undefined> {
  return db.selectFrom('smart_accounts').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findAccountByDomain(db: Kysely<Database>, domain: string): Promise<SmartAccountRow | undefined> {
  return db.selectFrom('smart_accounts').selectAll().where('domain', '=', domain).executeTakeFirst();
}

export async function listAccounts(db: Kysely<Database>): Promise<SmartAccountRow[]> {
  return db.selectFrom('smart_accounts').selectAll().orderBy('created_at').orderBy('name').orderBy('id').execute();
}

export async function insertVirtualAccount(db: Kysely<Database>, row: VirtualAccountRow): Promise<void> {
  await db.insertInto('virtual_accounts').values(row).execute();
}

export async function findVirtualAccount(db: Kysely<Database>, id: string): Promise<VirtualAccountRow | undefined> {
  return db.selectFrom('virtual_accounts').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findVirtualAccountByName(
  db: Kysely<Database>,
  accountId: string,
  name: string,
): Promise<VirtualAccountRow | undefined> {
  return db
    .selectFrom('virtual_accounts')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('name', '=', name)
    .executeTakeFirst();
}

export async function listVirtualAccounts(db: Kysely<Database>, accountId: string): Promise<VirtualAccountRow[]> {
  return db
    .selectFrom('virtual_accounts')
    .selectAll()
    .where('account_id', '=', accountId)
    .orderBy('created_at')
    .orderBy('name')
    .orderBy('id')
    .execute();
}

/** A VA with its Smart Account, as a registration response names them. */
export interface VaWithAccount {
  va: { id: string; name: string };
  account: { id: string; name: string; domain: string };
}

export async function findVaWithAccount(db: Kysely<Database>, vaId: string): Promise<VaWithAccount | undefined> {
  const row = await db
    .selectFrom('virtual_accounts as va')
    .innerJoin('smart_accounts as sa', 'sa.id', 'va.account_id')
    .select(['va.id as va_id', 'va.name as va_name', 'sa.id as sa_id', 'sa.name as sa_name', 'sa.domain as sa_domain'])
    .where('va.id', '=', vaId)
    .executeTakeFirst();
  return (
    row && {
      va: { id: row.va_id, name: row.va_name },
      account: { id: row.sa_id, name: row.sa_name, domain: row.sa_domain },
    }
  );
}
