import { randomUUID } from 'node:crypto';
import type { Clock } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import { conflict, notFound } from '../../errors.js';
import type { Database, SmartAccountRow, VirtualAccountRow } from '../../storage/schema.js';
import type { Transactor } from '../../storage/transactor.js';
import { refuseDuplicate } from '../../storage/unique-violation.js';
import { toIso } from '../../util/time.js';
import { type Actor, recordEvent } from '../events/event-recorder.js';
import {
  findAccount,
  findAccountByDomain,
  findVirtualAccount,
  findVirtualAccountByName,
  insertAccount,
  insertVirtualAccount,
  listAccounts,
  listVirtualAccounts,
} from './account-store.js';
import { defaultDomainFor } from './domain-name.js';

export interface AccountView {
  id: string;
  name: string;
  domain: string;
  createdAt: string;
}

export interface VirtualAccountView {
  id: string;
  name: string;
  accountId: string;
  createdAt: string;
}

export interface AccountServiceDeps {
  db: Kysely<Database>;
  transactor: Transactor;
  clock: Clock;
}

/** Smart Accounts and their Virtual Accounts. */
export function createAccountService({ db, transactor, clock }: AccountServiceDeps) {
  return {
    /** Creates a Smart Account; the domain defaults to a slug of the name under `.example`. */
    async createAccount(
      input: { name: string; domain?: string | undefined },
      actor: Actor = 'system',
    ): Promise<AccountView> {
      const row: SmartAccountRow = {
        id: randomUUID(),
        name: input.name,
        domain: input.domain ?? defaultDomainFor(input.name),
        created_at: clock.now(),
      };
      await transactor.run(async (trx) => {
        const taken = () =>
          conflict(`A smart account with the domain '${row.domain}' already exists; choose another domain.`, {
            domain: ['is already used by another smart account'],
          });
        if (await findAccountByDomain(trx, row.domain)) throw taken();
        await refuseDuplicate(insertAccount(trx, row), taken);
        await recordEvent(trx, {
          at: row.created_at,
          actor,
          type: 'account.created',
          accountId: row.id,
          detail: { name: row.name, domain: row.domain },
        });
      });
      return accountView(row);
    },

    async listAccounts(): Promise<AccountView[]> {
      return (await listAccounts(db)).map(accountView);
    },

    /** Creates a Virtual Account; names are unique within their Smart Account. */
    async createVirtualAccount(
      accountId: string,
      input: { name: string },
      actor: Actor = 'system',
    ): Promise<VirtualAccountView> {
      const row: VirtualAccountRow = {
        id: randomUUID(),
        account_id: accountId,
        name: input.name,
        created_at: clock.now(),
      };
      await transactor.run(async (trx) => {
        if (!(await findAccount(trx, accountId))) throw notFound('Smart account', accountId);
        const taken = () =>
          conflict(`The smart account already has a virtual account named '${input.name}'.`, {
            name: ['is already used in this smart account'],
          });
        if (await findVirtualAccountByName(trx, accountId, input.name)) throw taken();
        await refuseDuplicate(insertVirtualAccount(trx, row), taken);
        await recordEvent(trx, {
          at: row.created_at,
          actor,
          type: 'va.created',
          accountId,
          vaId: row.id,
          detail: { name: row.name },
        });
      });
      return virtualAccountView(row);
    },

    async listVirtualAccounts(accountId: string): Promise<VirtualAccountView[]> {
      if (!(await findAccount(db, accountId))) throw notFound('Smart account', accountId);
      return (await listVirtualAccounts(db, accountId)).map(virtualAccountView);
    },

    /** The VA or `NOT_FOUND`. */
    async requireVirtualAccount(vaId: string): Promise<VirtualAccountRow> {
      const va = await findVirtualAccount(db, vaId);
      if (!va) throw notFound('Virtual account', vaId);
      return va;
    },
  };
}

export type AccountService = ReturnType<typeof createAccountService>;

function accountView(row: SmartAccountRow): AccountView {
  return { id: row.id, name: row.name, domain: row.domain, createdAt: toIso(row.created_at) };
}

function virtualAccountView(row: VirtualAccountRow): VirtualAccountView {
  return { id: row.id, name: row.name, accountId: row.account_id, createdAt: toIso(row.created_at) };
}
