import { randomBytes, randomUUID } from 'node:crypto';
import { type Clock, DAY } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import { notFound } from '../../errors.js';
import type { Database, TokenRow } from '../../storage/schema.js';
import type { Transactor } from '../../storage/transactor.js';
import { toIso } from '../../util/time.js';
import { findVirtualAccount } from '../accounts/account-store.js';
import { type Actor, recordEvent } from '../events/event-recorder.js';
import { type TokenStatus, tokenStatus } from './token-status.js';
import { findTokenById, insertToken, listTokens, revokeToken } from './token-store.js';

export interface CreateTokenInput {
  description?: string | undefined;
  /** Days until the token expires, 1–365. */
  days: number;
  /** Absent: unlimited. */
  maxUses?: number | undefined;
  exportControlled: boolean;
}

export interface TokenView {
  id: string;
  token: string;
  vaId: string;
  description: string;
  createdAt: string;
  expiresAt: string;
  maxUses: number | null;
  uses: number;
  exportControlled: boolean;
  revokedAt: string | null;
  status: TokenStatus;
}

export interface TokenServiceDeps {
  db: Kysely<Database>;
  transactor: Transactor;
  clock: Clock;
}

/** A new registration token: `T` and 48 random bytes in base64url (65 characters). */
export function newTokenValue(): string {
  // A base64url string may begin with '-', which a command line reads as an option
  // (`register idtoken -x…`); the token is what operators paste, so it always starts with a letter.
  return `T${randomBytes(48).toString('base64url')}`;
}

/** Registration (ID) tokens of a VA. */
export function createTokenService({ db, transactor, clock }: TokenServiceDeps) {
  const view = (row: TokenRow): TokenView => toTokenView(row, clock.now());
  return {
    async createToken(vaId: string, input: CreateTokenInput, actor: Actor = 'system'): Promise<TokenView> {
      const now = clock.now();
      const row: TokenRow = {
        id: randomUUID(),
        va_id: vaId,
        token: newTokenValue(),
        description: input.description ?? '',
        created_at: now,
        expires_at: now + input.days * DAY,
        max_uses: input.maxUses ?? null,
        uses: 0,
        export_controlled: input.exportControlled ? 1 : 0,
        revoked_at: null,
      };
      await transactor.run(async (trx) => {
        const va = await findVirtualAccount(trx, vaId);
        if (!va) throw notFound('Virtual account', vaId);
        await insertToken(trx, row);
        await recordEvent(trx, {
          at: now,
          actor,
          type: 'token.created',
          accountId: va.account_id,
          vaId,
          detail: {
            tokenId: row.id,
            description: row.description,
            expiresAt: toIso(row.expires_at),
            maxUses: row.max_uses,
            exportControlled: input.exportControlled,
          },
        });
      });
      return view(row);
    },

    async listTokens(vaId: string): Promise<TokenView[]> {
      if (!(await findVirtualAccount(db, vaId))) throw notFound('Virtual account', vaId);
      return (await listTokens(db, vaId)).map(view);
    },

    /** Revokes a token; revoking it again changes nothing. */
    async revokeToken(tokenId: string, actor: Actor = 'system'): Promise<TokenView> {
      const row = await transactor.run(async (trx) => {
        const before = await findTokenById(trx, tokenId);
        if (!before) throw notFound('Token', tokenId);
        const now = clock.now();
        await revokeToken(trx, tokenId, now);
        if (before.revoked_at === null) {
          const va = await findVirtualAccount(trx, before.va_id);
          await recordEvent(trx, {
            at: now,
            actor,
            type: 'token.revoked',
            accountId: va?.account_id ?? null,
            vaId: before.va_id,
            detail: { tokenId, description: before.description },
          });
        }
        return findTokenById(trx, tokenId);
      });
      return view(row!);
    },
  };
}

export type TokenService = ReturnType<typeof createTokenService>;

export function toTokenView(row: TokenRow, now: number): TokenView {
  return {
    id: row.id,
    token: row.token,
    vaId: row.va_id,
    description: row.description,
    createdAt: toIso(row.created_at),
    expiresAt: toIso(row.expires_at),
    maxUses: row.max_uses,
    uses: row.uses,
    exportControlled: row.export_controlled === 1,
    revokedAt: toIso(row.revoked_at),
    status: tokenStatus(row, now),
  };
}
