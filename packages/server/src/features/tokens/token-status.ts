import { SmartlicError } from '@smartlic/protocol';
import type { TokenRow } from '../../storage/schema.js';

/** A token's state as operators see it. */
export type TokenStatus = 'ACTIVE' | 'EXPIRED' | 'REVOKED' | 'USED_UP';

type TokenFacts = Pick<TokenRow, 'revoked_at' | 'expires_at' | 'max_uses' | 'uses'>;

/** Revoked wins over expired, which wins over used up. */
export function tokenStatus(token: TokenFacts, now: number): TokenStatus {
  if (token.revoked_at !== null) return 'REVOKED';
  if (now >= token.expires_at) return 'EXPIRED';
  if (token.max_uses !== null && token.uses >= token.max_uses) return 'USED_UP';
  return 'ACTIVE';
}

/** Why a token cannot register a device. */
export type TokenRefusal = 'INVALID' | Exclude<TokenStatus, 'ACTIVE'>;

/** Whether a token (or the absence of one) lets a device register at `now`. */
export type TokenCheck<T extends TokenFacts> = { ok: true; token: T } | { ok: false; reason: TokenRefusal };

export function checkToken<T extends TokenFacts>(token: T | undefined, now: number): TokenCheck<T> {
  if (!token) return { ok: false, reason: 'INVALID' };
  const status = tokenStatus(token, now);
  return status === 'ACTIVE' ? { ok: true, token } : { ok: false, reason: status };
}

const REFUSAL_CODES = {
  INVALID: 'TOKEN_INVALID',
  REVOKED: 'TOKEN_REVOKED',
  EXPIRED: 'TOKEN_EXPIRED',
  USED_UP: 'TOKEN_USED_UP',
} as const;

/** The error a device sees for a refused token. */
export function tokenRefusalError(reason: TokenRefusal): SmartlicError {
  return new SmartlicError(REFUSAL_CODES[reason], { context: { fields: { idToken: [reasonText(reason)] } } });
}

function reasonText(reason: TokenRefusal): string {
  switch (reason) {
    case 'INVALID':
      return 'no such token';
    case 'REVOKED':
      return 'revoked';
    case 'EXPIRED':
      return 'expired';
    case 'USED_UP':
      return 'maximum number of uses reached';
  }
}
