import type { Kysely } from 'kysely';
import { isSealed, type SecretBox } from '../../crypto/secret-box.js';
import { loadOrCreateSecretsKey } from '../../crypto/secrets-key.js';
import type { Logger } from '../../logger.js';
import type { Database } from '../../storage/schema.js';
import type { Transactor } from '../../storage/transactor.js';

/** How migration 0008 marks a secret stored in clear before secrets were encrypted. */
const PLAIN_PREFIX = 'plain:';

/** The HMAC key of a webhook from its stored form: sealed, or (not yet encrypted) marked plain. */
export function revealWebhookSecret(box: SecretBox, stored: string): string {
  return stored.startsWith(PLAIN_PREFIX) ? stored.slice(PLAIN_PREFIX.length) : box.open(stored);
}

/**
 * At start, after the migrations: loads (or creates) `<data>/secrets.key`, checks that it
 * opens every encrypted webhook secret — a missing or wrong key stops the start with one
 * clear error, instead of every delivery failing later — and encrypts the secrets still
 * stored in clear (written before encryption, marked by migration 0008), in one transaction.
 */
export async function prepareWebhookSecrets(deps: {
  dataDir: string;
  db: Kysely<Database>;
  transactor: Transactor;
  logger?: Logger;
}): Promise<SecretBox> {
  const rows = await deps.db.selectFrom('webhooks').select(['id', 'secret']).execute();
  const sealed = rows.filter((r) => isSealed(r.secret));
  const { box, path } = loadOrCreateSecretsKey({
    dataDir: deps.dataDir,
    mustExist: sealed.length > 0,
    ...(deps.logger ? { logger: deps.logger } : {}),
  });
  const unopened = sealed.filter((r) => !opens(box, r.secret)).length;
  if (unopened > 0) {
    throw new Error(
      `The secrets key ${path} does not decrypt ${unopened} of the ${sealed.length} encrypted webhook secrets in the database: it is not the key they were encrypted with. Restore the right secrets.key.`,
    );
  }
  const plain = rows.filter((r) => r.secret.startsWith(PLAIN_PREFIX));
  if (plain.length > 0) {
    await deps.transactor.run(async (trx) => {
      for (const row of plain) {
        await trx
          .updateTable('webhooks')
          .set({ secret: box.seal(revealWebhookSecret(box, row.secret)) })
          .where('id', '=', row.id)
          .where('secret', '=', row.secret)
          .execute();
      }
    });
    deps.logger?.info({ count: plain.length }, 'Encrypted webhook secrets stored in clear');
  }
  return box;
}

function opens(box: SecretBox, sealed: string): boolean {
  try {
    box.open(sealed);
    return true;
  } catch {
    return false;
  }
}
