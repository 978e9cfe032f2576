import { chmodSync, existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '@smartlic/protocol';
import { writeFileAtomicSync } from '@smartlic/protocol/fs';
import type { Logger } from '../../logger.js';
import type { Transactor } from '../../storage/transactor.js';
import { generatePassword, hashPassword } from './password.js';
import { findOwnerCredential, upsertOwnerCredential } from './session-store.js';

export const ADMIN_PASSWORD_FILE = 'admin-password';
/** The name the bootstrap owner signs in to the portal with. */
export const OWNER_SIGN_IN_NAME = 'admin';

export interface BootstrapOwnerPassword {
  path: string;
  /** True only when this start created the password. */
  created: boolean;
  /** Whether the file is there (an operator may have removed it after noting the password). */
  present: boolean;
}

/**
 * Makes sure the bootstrap owner `admin` has a portal password. The first start writes a random
 * one to `<data>/admin-password` (mode 0600, atomically; the file first, then its scrypt hash in
 * the database, so a crash in between is completed by the next start). Later starts register
 * the file's password if the database has none, and otherwise leave both alone.
 */
export async function ensureOwnerPassword(deps: {
  dataDir: string;
  transactor: Transactor;
  clock: Clock;
  logger?: Logger;
}): Promise<BootstrapOwnerPassword> {
  const { transactor, clock, logger } = deps;
  const path = join(deps.dataDir, ADMIN_PASSWORD_FILE);
  const known = await transactor.run((trx) => findOwnerCredential(trx, OWNER_SIGN_IN_NAME));

  if (existsSync(path)) {
    if ((statSync(path).mode & 0o077) !== 0) {
      chmodSync(path, 0o600);
      logger?.warn({ path }, 'The admin password file was readable by others; set its mode to 0600');
    }
    if (known) return { path, created: false, present: true };
    const password = readFileSync(path, 'utf8').trim();
    if (password === '') throw new Error(`${path} is empty: delete it to have a new admin password created.`);
    const hash = await hashPassword(password);
    const now = clock.now();
    await transactor.run(async (trx) => {
      if (!(await findOwnerCredential(trx, OWNER_SIGN_IN_NAME))) {
        await upsertOwnerCredential(trx, {
          name: OWNER_SIGN_IN_NAME,
          password_hash: hash,
          created_at: now,
          updated_at: now,
        });
      }
    });
    logger?.info({ path }, 'Registered the admin password found in the data directory');
    return { path, created: false, present: true };
  }
  if (known) return { path, created: false, present: false };

  const password = generatePassword();
  const hash = await hashPassword(password);
  // On PostgreSQL a unit may run again after a conflict, e.g. with another server process
  // starting on the same database: if that one's password won, the file this one wrote is void.
  let wroteFile = false;
  return transactor.run(async (trx) => {
    if (await findOwnerCredential(trx, OWNER_SIGN_IN_NAME)) {
      if (wroteFile) rmSync(path, { force: true });
      return { path, created: false, present: existsSync(path) };
    }
    writeFileAtomicSync(path, `${password}\n`, 0o600);
    wroteFile = true;
    const now = clock.now();
    await upsertOwnerCredential(trx, {
      name: OWNER_SIGN_IN_NAME,
      password_hash: hash,
      created_at: now,
      updated_at: now,
    });
    logger?.info({ path }, 'Created the admin password of the portal');
    return { path, created: true, present: true };
  });
}
