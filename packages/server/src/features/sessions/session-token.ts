import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The name of the portal's session cookie. */
export const SESSION_COOKIE = 'smartlic_session';

/** A new session token: 32 random bytes, base64url (the cookie's value; only its hash is stored). */
export function generateSessionToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The stored form of a session token: SHA-256, hex. */
export function hashSessionToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * The CSRF token of a session: an HMAC of the session token, so that only a page that was given
 * it (by the sign-in or `GET /api/v1/session` answer, read by same-origin script) can send it;
 * a cross-site page that makes the browser attach the cookie cannot know it.
 */
export function csrfTokenOf(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('smartlic csrf v1').digest('base64url');
}

/** Whether `presented` is the CSRF token of `sessionToken` (constant-time). */
export function csrfTokenMatches(sessionToken: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const expected = Buffer.from(csrfTokenOf(sessionToken));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
