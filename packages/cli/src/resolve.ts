import type { AccountView, PakView, VirtualAccountView } from '@smartlic/server';
import type { Command } from 'commander';
import { type AdminConnection, adminRequest } from './admin-client.js';
import { CliError } from './output.js';

/** Ids the server hands out; anything else given for an id is looked up as a name (or PAK number). */
const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The one match of `value` among `candidates`, or one sentence listing the ambiguous ones; undefined when none matches. */
function single<T extends { id: string }>(
  candidates: T[],
  what: string,
  value: string,
  describe: (c: T) => string,
): string | undefined {
  if (candidates.length === 1) return candidates[0]!.id;
  if (candidates.length === 0) return undefined;
  throw new CliError(
    `${candidates.length} ${what}s are named "${value}": give one of their ids instead (${candidates.map(describe).join('; ')}).`,
  );
}

/** The Smart Accounts visible to the key. */
function accounts(connection: AdminConnection): Promise<AccountView[]> {
  return adminRequest<AccountView[]>(connection, 'GET', '/api/v1/accounts');
}

/**
 * A Smart Account id, or the id of the one account visible to the key whose name is `value`.
 * An unknown name is passed on as it is: the server then says the account does not exist.
 */
export async function resolveAccount(connection: AdminConnection, value: string): Promise<string> {
  if (ID.test(value)) return value;
  const named = (await accounts(connection)).filter((a) => a.name === value);
  return single(named, 'Smart Account', value, (a) => `${a.id}, domain ${a.domain}`) ?? value;
}

/** The Virtual Accounts visible to the key, with their Smart Account (accounts whose VAs it may not read are skipped). */
async function virtualAccounts(connection: AdminConnection): Promise<Array<VirtualAccountView & { account: string }>> {
  const found: Array<VirtualAccountView & { account: string }> = [];
  for (const account of await accounts(connection)) {
    try {
      const vas = await adminRequest<VirtualAccountView[]>(
        connection,
        'GET',
        `/api/v1/accounts/${encodeURIComponent(account.id)}/virtual-accounts`,
      );
      found.push(...vas.map((va) => ({ ...va, account: account.name })));
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
    }
  }
  return found;
}

/**
 * A Virtual Account id, or the id of the one VA visible to the key whose name is `value`; several
 * are refused with their ids. An unknown name is passed on as it is (the server says it does not exist).
 */
export async function resolveVa(connection: AdminConnection, value: string): Promise<string> {
  if (ID.test(value)) return value;
  const named = (await virtualAccounts(connection)).filter((va) => va.name === value);
  return single(named, 'Virtual Account', value, (va) => `${va.id} in "${va.account}"`) ?? value;
}

/** A PAK id, or the id of the PAK whose number (as `pak list` shows it) is `value` in the accounts visible to the key. */
export async function resolvePak(connection: AdminConnection, value: string): Promise<string> {
  if (ID.test(value)) return value;
  const found: Array<PakView & { account: string }> = [];
  for (const account of await accounts(connection)) {
    try {
      const paks = await adminRequest<PakView[]>(
        connection,
        'GET',
        `/api/v1/accounts/${encodeURIComponent(account.id)}/paks`,
      );
      found.push(...paks.filter((p) => p.number === value).map((p) => ({ ...p, account: account.name })));
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
    }
  }
  return single(found, 'PAK', value, (p) => `${p.id} in "${p.account}"`) ?? value;
}

/**
 * Before an admin command runs: its `--account`, `--va` and `--to` (a destination VA) options may
 * name the account or VA instead of giving its id; the name is looked up through the list routes.
 */
export async function resolveNamedOptions(action: Command, connect: () => AdminConnection): Promise<void> {
  for (const option of action.options) {
    const name = option.attributeName();
    const value = action.getOptionValue(name) as unknown;
    if (typeof value !== 'string' || ID.test(value)) continue;
    const description = option.description ?? '';
    if (option.long === '--account') {
      action.setOptionValueWithSource(name, await resolveAccount(connect(), value), 'cli');
    } else if (option.long === '--va' || (option.long === '--to' && description.includes('Virtual Account'))) {
      action.setOptionValueWithSource(name, await resolveVa(connect(), value), 'cli');
    }
  }
}
