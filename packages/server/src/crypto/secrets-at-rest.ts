import { type Kysely, sql } from 'kysely';
import type { Logger } from '../logger.js';
import type { Database } from '../storage/schema.js';
import type { Transactor } from '../storage/transactor.js';
import { isSealed, type SecretBox } from './secret-box.js';
import { loadOrCreateSecretsKey } from './secrets-key.js';

/** How a migration marks a value stored in clear before that column was encrypted (0008, 0009). */
const PLAIN_PREFIX = 'plain:';

/** A column of values stored encrypted with the secrets key; every row has a text `id`. */
interface SealedColumn {
  table: 'webhooks' | 'tokens';
  column: 'secret' | 'token';
  /** How errors name the values, e.g. "webhook secrets". */
  what: string;
}

/** Every column encrypted with `<data>/secrets.key`. */
const SEALED_COLUMNS: readonly SealedColumn[] = [
  { table: 'webhooks', column: 'secret', what: 'webhook secrets' },
  { table: 'tokens', column: 'token', what: 'registration token values' },
];

/** A secret from its stored form: sealed, or (not yet encrypted) marked plain by a migration. */
export function revealSecret(box: SecretBox, stored: string): string {
  return stored.startsWith(PLAIN_PREFIX) ? stored.slice(PLAIN_PREFIX.length) : box.open(stored);
}

/**
 * At start, after the migrations: loads (or creates) `<data>/secrets.key`, checks that it
 * opens every encrypted value (webhook secrets, registration token values) — a missing or
 * wrong key stops the start with one clear error, instead of failing later — and encrypts
 * the values still stored in clear (marked `plain:` by a migration), in one transaction.
 */
export async function prepareSecretsAtRest(deps: {
  dataDir: string;
  db: Kysely<Database>;
  transactor: Transactor;
  logger?: Logger;
}): Promise<SecretBox> {
  const columns = await Promise.all(SEALED_COLUMNS.map(async (c) => ({ ...c, rows: await readColumn(deps.db, c) })));
  const anySealed = columns.some((c) => c.rows.some((r) => isSealed(r.value)));
  const { box, path } = loadOrCreateSecretsKey({
    dataDir: deps.dataDir,
    mustExist: anySealed,
    ...(deps.logger ? { logger: deps.logger } : {}),
  });
  for (const c of columns) {
    const sealed = c.rows.filter((r) => isSealed(r.value));
    const unopened = sealed.filter((r) => !opens(box, r.value)).length;
    if (unopened > 0) {
      throw new Error(
        `The secrets key ${path} does not decrypt ${unopened} of the ${sealed.length} encrypted ${c.what} in the database: it is not the key they were encrypted with. Restore the right secrets.key.`,
      );
    }
  }
  const plain = columns.flatMap((c) =>
    c.rows.filter((r) => r.value.startsWith(PLAIN_PREFIX)).map((r) => ({ ...c, ...r })),
  );
  if (plain.length > 0) {
    await deps.transactor.run(async (trx) => {
      for (const row of plain) {
        const sealed = box.seal(revealSecret(box, row.value));
        await sql`update ${sql.table(row.table)} set ${sql.ref(row.column)} = ${sealed}
          where id = ${row.id} and ${sql.ref(row.column)} = ${row.value}`.execute(trx);
      }
    });
    deps.logger?.info({ count: plain.length }, 'Encrypted secrets stored in clear');
  }
  return box;
}

async function readColumn(db: Kysely<Database>, c: SealedColumn): Promise<Array<{ id: string; value: string }>> {
  const { rows } = await sql<{ id: string; value: string }>`
    select id, ${sql.ref(c.column)} as value from ${sql.table(c.table)}`.execute(db);
  return rows;
}

function opens(box: SecretBox, sealed: string): boolean {
  try {
    box.open(sealed);
    return true;
  } catch {
    return false;
  }
}
