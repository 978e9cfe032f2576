import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '@smartlic/protocol/fs';
import type { Logger } from '../logger.js';
import { createSecretBox, SECRET_KEY_BYTES, type SecretBox } from './secret-box.js';

/** `<data>/secrets.key`: the AES-256 key of secrets stored encrypted (webhook secrets, registration token values). */
export function secretsKeyPath(dataDir: string): string {
  return join(dataDir, 'secrets.key');
}

/**
 * Reads `<data>/secrets.key` (32 raw bytes), creating it (random, mode 0600, atomically)
 * when missing — unless `mustExist`, because the database already holds secrets sealed
 * with it: a new key could not open them, so the start stops with an explanation instead.
 */
export function loadOrCreateSecretsKey(options: { dataDir: string; mustExist: boolean; logger?: Logger }): {
  box: SecretBox;
  path: string;
  created: boolean;
} {
  const path = secretsKeyPath(options.dataDir);
  if (!existsSync(path)) {
    if (options.mustExist) {
      throw new Error(
        `The secrets key ${path} is missing, but the database holds secrets encrypted with it (webhook secrets, registration token values): restore the file from a backup (a new key cannot decrypt them).`,
      );
    }
    writeFileAtomicSync(path, randomBytes(SECRET_KEY_BYTES), 0o600);
    options.logger?.info({ path }, 'Created the secrets key');
    return { box: createSecretBox(readFileSync(path)), path, created: true };
  }
  const key = readFileSync(path);
  if (key.length !== SECRET_KEY_BYTES) {
    throw new Error(
      `The secrets key ${path} must hold exactly ${SECRET_KEY_BYTES} bytes, but holds ${key.length}: restore the right file.`,
    );
  }
  if ((statSync(path).mode & 0o077) !== 0) {
    options.logger?.warn({ path }, 'The secrets key is readable by others than its owner: chmod 600 it');
  }
  return { box: createSecretBox(key), path, created: false };
}
