import type { SecretBox } from '../../crypto/secret-box.js';
import { revealSecret } from '../../crypto/secrets-at-rest.js';

/**
 * The HMAC key of a webhook from its stored form: sealed, or (not yet encrypted) marked plain
 * by migration 0008. Start-up encrypts the plain ones (`prepareSecretsAtRest`).
 */
export function revealWebhookSecret(box: SecretBox, stored: string): string {
  return revealSecret(box, stored);
}
