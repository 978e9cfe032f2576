import { randomBytes, randomUUID } from 'node:crypto';
import { type Clock, DAY } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import { notFound } from '../../errors.js';
import type { Database, TokenRow } from '../../storage/schema.js';
import type { Transactor } from '../../storage/transactor.js';
import { toIso } from '../../util/time.js';
import { findVirtualAccount } from '../accounts/account-store.js';
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

/** A new registration token: 48 random bytes, base64url (64 characters). */
export function newTokenValue(): string {
  return randomBytes(48).toString('base64url');
}

/** Registration (ID) tokens of a VA. */
export function createTokenService({ db, transactor, clock }: TokenServiceDeps) {
  const view = (row: TokenRow): TokenView => toTokenView(row, clock.now());
  return {
    async createToken(vaId: string, input: CreateTokenInput): Promise<TokenView> {
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
        if (!(await findVirtualAccount(trx, vaId))) throw notFound('Virtual account', vaId);
        await insertToken(trx, row);
      });
      return view(row);
    },

    async listTokens(vaId: string): Promise<TokenView[]> {
      if (!(await findVirtualAccount(db, vaId))) throw notFound('Virtual account', vaId);
      return (await listTokens(db, vaId)).map(view);
    },

    /** Revokes a token; revoking it again changes nothing. */
    async revokeToken(tokenId: string): Promise<TokenView> {
      const row = await transactor.run(async (trx) => {
        if (!(await findTokenById(trx, tokenId))) throw notFound('Token', tokenId);
        await revokeToken(trx, tokenId, clock.now());
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
