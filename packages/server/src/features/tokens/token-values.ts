import { createHash } from 'node:crypto';
import type { SecretBox } from '../../crypto/secret-box.js';
import { revealSecret } from '../../crypto/secrets-at-rest.js';

/**
 * SHA-256 of a registration token, hex: the only thing registration looks a token up by
 * (ADR 0007). A token has 384 random bits, so an unsalted fast hash is enough, as for API keys.
 */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The stored forms of a new token: its hash, and its value encrypted with the secrets key. */
export function storedToken(box: SecretBox, token: string): { token: string; token_hash: string } {
  return { token: box.seal(token), token_hash: tokenHash(token) };
}

/** A token's value from its stored form (encrypted, or marked plain by migration 0009). */
export function revealToken(box: SecretBox, stored: string): string {
  return revealSecret(box, stored);
}

/** What a reader who may not copy tokens sees of one: its last four characters, e.g. `…x7Qa`. */
export function tokenHint(token: string): string {
  return `…${token.slice(-4)}`;
}
