import type { Kysely } from 'kysely';
import type { Database, RoleGrantRow, UserRow } from '../../storage/schema.js';
import type { Grant } from '../access/access-policy.js';

export async function findUserByEmail(db: Kysely<Database>, email: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
}

export async function findUser(db: Kysely<Database>, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function insertUser(db: Kysely<Database>, row: UserRow): Promise<void> {
  await db.insertInto('users').values(row).execute();
}

/**
 * The user with `row`'s email: inserted unless one exists, which may have been inserted by
 * another process since the caller looked (a unique email is a user, not a conflict).
 */
export async function insertUserOrFind(db: Kysely<Database>, row: UserRow): Promise<UserRow> {
  await db
    .insertInto('users')
    .values(row)
    .onConflict((oc) => oc.column('email').doNothing())
    .execute();
  return db.selectFrom('users').selectAll().where('email', '=', row.email).executeTakeFirstOrThrow();
}

/** Grants a role, replacing the user's earlier role on the same account or VA. */
export async function upsertGrant(db: Kysely<Database>, row: RoleGrantRow): Promise<void> {
  await db
    .insertInto('role_grants')
    .values(row)
    .onConflict((oc) => oc.columns(['user_id', 'account_id', 'va_id']).doUpdateSet({ role: row.role }))
    .execute();
}

export async function grantsOf(db: Kysely<Database>, userId: string): Promise<Grant[]> {
  const rows = await db.selectFrom('role_grants').selectAll().where('user_id', '=', userId).execute();
  return rows.map((r) => ({ accountId: r.account_id, vaId: r.va_id === '' ? null : r.va_id, role: r.role }));
}

/** A user and their roles, for authentication. */
export async function findUserWithGrants(
  db: Kysely<Database>,
  userId: string,
): Promise<{ email: string; grants: Grant[] } | undefined> {
  const user = await findUser(db, userId);
  return user && { email: user.email, grants: await grantsOf(db, userId) };
}

/** One role of a user in a Smart Account, with the names of the account and VA. */
export interface NamedGrant {
  accountId: string;
  accountName: string;
  vaId: string | null;
  vaName: string | null;
  role: RoleGrantRow['role'];
  grantedAt: number;
}

/** Users holding any role in a Smart Account (on it or on one of its VAs), with those roles. */
export async function listAccountUsers(
  db: Kysely<Database>,
  accountId: string,
): Promise<Array<{ user: UserRow; grants: NamedGrant[] }>> {
  const rows = await db
    .selectFrom('role_grants')
    .innerJoin('users', 'users.id', 'role_grants.user_id')
    .innerJoin('smart_accounts', 'smart_accounts.id', 'role_grants.account_id')
    .leftJoin('virtual_accounts', 'virtual_accounts.id', 'role_grants.va_id')
    .select([
      'users.id',
      'users.email',
      'users.created_at',
      'smart_accounts.name as account_name',
      'role_grants.va_id',
      'virtual_accounts.name as va_name',
      'role_grants.role',
      'role_grants.granted_at',
    ])
    .where('role_grants.account_id', '=', accountId)
    .orderBy('users.email')
    .orderBy('role_grants.va_id')
    .execute();
  const byUser = new Map<string, { user: UserRow; grants: NamedGrant[] }>();
  for (const r of rows) {
    const entry = byUser.get(r.id) ?? { user: { id: r.id, email: r.email, created_at: r.created_at }, grants: [] };
    entry.grants.push({
      accountId,
      accountName: r.account_name,
      vaId: r.va_id === '' ? null : r.va_id,
      vaName: r.va_id === '' ? null : (r.va_name ?? null),
      role: r.role,
      grantedAt: r.granted_at,
    });
    byUser.set(r.id, entry);
  }
  return [...byUser.values()];
}

/** Removes a user's role on a Smart Account (`vaId` null) or VA; the removed role, or undefined if there was none. */
export async function deleteGrant(
  db: Kysely<Database>,
  userId: string,
  accountId: string,
  vaId: string | null,
): Promise<RoleGrantRow['role'] | undefined> {
  const row = await db
    .selectFrom('role_grants')
    .select('role')
    .where('user_id', '=', userId)
    .where('account_id', '=', accountId)
    .where('va_id', '=', vaId ?? '')
    .executeTakeFirst();
  if (!row) return undefined;
  await db
    .deleteFrom('role_grants')
    .where('user_id', '=', userId)
    .where('account_id', '=', accountId)
    .where('va_id', '=', vaId ?? '')
    .execute();
  return row.role;
}

const KEY_COLUMNS = [
  'id',
  'name',
  'created_at',
  'last_used_at',
  'revoked_at',
  'user_id',
  'scope_account_id',
  'scope_va_id',
] as const;

export async function listUserKeys(db: Kysely<Database>, userId: string) {
  return db.selectFrom('api_keys').select(KEY_COLUMNS).where('user_id', '=', userId).orderBy('created_at').execute();
}

export async function findKey(db: Kysely<Database>, keyId: string) {
  return db.selectFrom('api_keys').select(KEY_COLUMNS).where('id', '=', keyId).executeTakeFirst();
}

export async function revokeKey(db: Kysely<Database>, keyId: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('api_keys')
    .set({ revoked_at: now })
    .where('id', '=', keyId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
