import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** Length of the key of a {@link SecretBox}: AES-256. */
export const SECRET_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';

/** Encrypts short secrets that must be read back (webhook HMAC keys) for storage at rest. */
export interface SecretBox {
  /** `v1:<iv>:<tag>:<ciphertext>`, each base64url; a fresh random IV every time. */
  seal(plain: string): string;
  /** The plain text of a {@link seal}ed value; throws when it is malformed, altered or of another key. */
  open(sealed: string): string;
}

/** Whether `stored` has the form of a sealed value (not whether it opens). */
export function isSealed(stored: string): boolean {
  return stored.startsWith(`${VERSION}:`);
}

/** A {@link SecretBox} with AES-256-GCM under `key` (32 bytes). */
export function createSecretBox(key: Uint8Array): SecretBox {
  if (key.length !== SECRET_KEY_BYTES) {
    throw new Error(`A secrets key must be ${SECRET_KEY_BYTES} bytes, not ${key.length}.`);
  }
  const k = Buffer.from(key);
  return {
    seal(plain) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', k, iv);
      const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return [VERSION, iv, cipher.getAuthTag(), data]
        .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
        .join(':');
    },
    open(sealed) {
      const parts = sealed.split(':');
      if (parts.length !== 4 || parts[0] !== VERSION)
        throw new Error(`Not a sealed secret (expected ${VERSION}:iv:tag:data).`);
      const [iv, tag, data] = parts.slice(1).map((p) => Buffer.from(p, 'base64url'));
      if (iv!.length !== IV_BYTES || tag!.length !== TAG_BYTES)
        throw new Error('A sealed secret has a bad IV or tag length.');
      const decipher = createDecipheriv('aes-256-gcm', k, iv!, { authTagLength: TAG_BYTES });
      decipher.setAuthTag(tag!);
      try {
        return Buffer.concat([decipher.update(data!), decipher.final()]).toString('utf8');
      } catch (cause) {
        throw new Error('A sealed secret does not open with this key (another key, or altered).', { cause });
      }
    },
  };
}
