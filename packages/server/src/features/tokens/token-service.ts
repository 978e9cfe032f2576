import { randomBytes, randomUUID } from 'node:crypto';
import { type Clock, DAY } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import type { SecretBox } from '../../crypto/secret-box.js';
import { notFound } from '../../errors.js';
import type { Database, TokenRow } from '../../storage/schema.js';
import type { Transactor } from '../../storage/transactor.js';
import { toIso } from '../../util/time.js';
import { findVirtualAccount } from '../accounts/account-store.js';
import { type Actor, recordEvent } from '../events/event-recorder.js';
import { refuseIfServedBySatellite } from '../satellites/served-vas.js';
import { type TokenStatus, tokenStatus } from './token-status.js';
import { findTokenById, insertToken, listTokens, revokeToken } from './token-store.js';
import { revealToken, storedToken, tokenHint } from './token-values.js';

export interface CreateTokenInput {
  description?: string | undefined;
  /** Days until the token expires, 1–365. */
  days: number;
  /** Absent: unlimited. */
  maxUses?: number | undefined;
  exportControlled: boolean;
}

/** A token as listed; `token` is null for a reader who may not copy tokens (see `TokenView` schema). */
export interface TokenView {
  id: string;
  token: string | null;
  /** The token's last four characters, e.g. `…x7Qa`, for everyone. */
  tokenHint: string;
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

/** A token with its value: what creating or revoking one answers. */
export type CreatedTokenView = TokenView & { token: string };

export interface TokenServiceDeps {
  db: Kysely<Database>;
  transactor: Transactor;
  clock: Clock;
  /** Encrypts token values at rest (`<data>/secrets.key`). */
  secrets: SecretBox;
}

/** Whether the reader may copy the tokens of a VA of that Smart Account (may create tokens there). */
export type MayCopyTokens = (place: { accountId: string; vaId: string }) => boolean;

/** A new registration token: `T` and 48 random bytes in base64url (65 characters). */
export function newTokenValue(): string {
  // A base64url string may begin with '-', which a command line reads as an option
  // (`register idtoken -x…`); the token is what operators paste, so it always starts with a letter.
  return `T${randomBytes(48).toString('base64url')}`;
}

/** Registration (ID) tokens of a VA. */
export function createTokenService({ db, transactor, clock, secrets }: TokenServiceDeps) {
  const withValue = (row: TokenRow): CreatedTokenView => {
    const token = revealToken(secrets, row.token);
    return { ...toTokenView(row, clock.now(), token), token };
  };
  return {
    async createToken(vaId: string, input: CreateTokenInput, actor: Actor = 'system'): Promise<CreatedTokenView> {
      const now = clock.now();
      const row: TokenRow = {
        id: randomUUID(),
        va_id: vaId,
        ...storedToken(secrets, newTokenValue()),
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
        await refuseIfServedBySatellite(trx, vaId);
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
      return withValue(row);
    },

    /** A VA's tokens; their values only when `mayCopy` the VA's tokens. */
    async listTokens(vaId: string, mayCopy: MayCopyTokens): Promise<TokenView[]> {
      const va = await findVirtualAccount(db, vaId);
      if (!va) throw notFound('Virtual account', vaId);
      const reveal = mayCopy({ accountId: va.account_id, vaId });
      const now = clock.now();
      return (await listTokens(db, vaId)).map((row) => {
        const token = revealToken(secrets, row.token);
        return toTokenView(row, now, reveal ? token : null, tokenHint(token));
      });
    },

    /** Revokes a token; revoking it again changes nothing. */
    async revokeToken(tokenId: string, actor: Actor = 'system'): Promise<CreatedTokenView> {
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
      return withValue(row!);
    },
  };
}

export type TokenService = ReturnType<typeof createTokenService>;

/** The view of a token row; `token` is the value to show (null: hidden), `hint` defaults from it. */
export function toTokenView<T extends string | null>(
  row: TokenRow,
  now: number,
  token: T,
  hint: string = tokenHint(token ?? ''),
): TokenView & { token: T } {
  return {
    id: row.id,
    token,
    tokenHint: hint,
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
