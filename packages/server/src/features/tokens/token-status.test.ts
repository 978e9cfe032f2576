import { describe, expect, it } from 'vitest';
import { checkToken, tokenRefusalError, tokenStatus } from './token-status.js';

const token = { revoked_at: null, expires_at: 1000, max_uses: 2, uses: 0 };

describe('token status', () => {
  it('is ACTIVE, EXPIRED at its expiry, USED_UP at its maximum, REVOKED above all', () => {
    expect(tokenStatus(token, 999)).toBe('ACTIVE');
    expect(tokenStatus(token, 1000)).toBe('EXPIRED');
    expect(tokenStatus({ ...token, uses: 2 }, 0)).toBe('USED_UP');
    expect(tokenStatus({ ...token, max_uses: null, uses: 10_000 }, 0)).toBe('ACTIVE');
    expect(tokenStatus({ ...token, uses: 2, revoked_at: 5 }, 2000)).toBe('REVOKED');
    expect(tokenStatus({ ...token, uses: 2 }, 2000)).toBe('EXPIRED');
  });

  it('checks a token for registration as a value, and maps refusals to distinct errors', () => {
    expect(checkToken(undefined, 0)).toEqual({ ok: false, reason: 'INVALID' });
    expect(checkToken(token, 0)).toEqual({ ok: true, token });
    expect(checkToken({ ...token, uses: 2 }, 0)).toEqual({ ok: false, reason: 'USED_UP' });
    const codes = (['INVALID', 'REVOKED', 'EXPIRED', 'USED_UP'] as const).map((r) => tokenRefusalError(r).code);
    expect(codes).toEqual(['TOKEN_INVALID', 'TOKEN_REVOKED', 'TOKEN_EXPIRED', 'TOKEN_USED_UP']);
    expect(tokenRefusalError('EXPIRED').status).toBe(403);
  });
});
