import { createHash, randomBytes } from 'node:crypto';

/** Prefix of every smartlic API key, so that a leaked key is recognisable. */
export const API_KEY_PREFIX = 'slk_';

/** A new API key: `slk_` and 32 random bytes, base64url. */
export function generateApiKey(): string {
  return `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** The stored form of a key: SHA-256, hex. Keys are long random strings, so no salt or slow hash is needed. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
