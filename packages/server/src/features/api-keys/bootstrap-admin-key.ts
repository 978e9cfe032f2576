import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '@smartlic/protocol';
import { writeFileAtomicSync } from '@smartlic/protocol/fs';
import type { Logger } from '../../logger.js';
import type { Transactor } from '../../storage/transactor.js';
import { generateApiKey, hashApiKey } from './api-key.js';
import { countLiveKeys, findApiKeyByHash, insertApiKey } from './api-key-store.js';

export const ADMIN_KEY_FILE = 'admin-api-key';
const BOOTSTRAP_KEY_NAME = 'bootstrap admin';

export interface BootstrapAdminKey {
  path: string;
  /** True only when this start created the key. */
  created: boolean;
}

/**
 * Makes sure an owner API key exists. The first start writes a new key to
 * `<data>/admin-api-key` (mode 0600, atomically; file first, then its hash in the
 * database, so a crash in between is completed by the next start). Later starts reuse the
 * file's key. If the operator removed the file after saving the key elsewhere, nothing is
 * recreated while a live owner key exists.
 */
export async function ensureBootstrapAdminKey(deps: {
  dataDir: string;
  transactor: Transactor;
  clock: Clock;
  logger?: Logger;
}): Promise<BootstrapAdminKey> {
  const { transactor, clock, logger } = deps;
  const path = join(deps.dataDir, ADMIN_KEY_FILE);

  if (existsSync(path)) {
    if ((statSync(path).mode & 0o077) !== 0) {
      chmodSync(path, 0o600);
      logger?.warn({ path }, 'The admin API key file was readable by others; set its mode to 0600');
    }
    const key = readFileSync(path, 'utf8').trim();
    if (key === '') throw new Error(`${path} is empty: delete it to have a new admin API key created.`);
    await transactor.run(async (trx) => {
      const row = await findApiKeyByHash(trx, hashApiKey(key));
      if (row?.revoked_at != null) {
        logger?.warn({ path }, 'The key in the admin API key file has been revoked');
      } else if (!row) {
        await insertApiKey(trx, newOwnerKey(key, clock.now()));
        logger?.info({ path }, 'Registered the admin API key found in the data directory');
      }
    });
    return { path, created: false };
  }

  // On PostgreSQL a unit may run again after a conflict, e.g. with another server process
  // starting on the same database: if that one's key won, the file this one wrote is void.
  let wroteFile = false;
  return transactor.run(async (trx) => {
    if ((await countLiveKeys(trx, 'owner')) > 0) {
      if (wroteFile) rmSync(path, { force: true });
      return { path, created: false };
    }
    const key = generateApiKey();
    writeFileAtomicSync(path, key, 0o600);
    wroteFile = true;
    await insertApiKey(trx, newOwnerKey(key, clock.now()));
    logger?.info({ path }, 'Created the bootstrap admin API key');
    return { path, created: true };
  });
}

function newOwnerKey(key: string, now: number) {
  return {
    id: randomUUID(),
    hash: hashApiKey(key),
    name: BOOTSTRAP_KEY_NAME,
    role: 'owner' as const,
    created_at: now,
    last_used_at: null,
    revoked_at: null,
    user_id: null,
  };
}
