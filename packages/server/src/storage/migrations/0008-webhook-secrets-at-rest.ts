import { type Kysely, type Migration, sql } from 'kysely';

/**
 * Webhook secrets are stored encrypted (`v1:<iv>:<tag>:<ciphertext>`, see
 * `features/webhooks/webhook-secrets.ts`). A migration has no key, so this one only marks
 * every secret written before as `plain:<secret>` — a secret chosen by a user could itself
 * look like `v1:…` — and the start-up that follows (with the key) encrypts the marked ones.
 */
export const webhookSecretsAtRestMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql`update webhooks set secret = 'plain:' || secret`.execute(db);
  },
  async down(db: Kysely<unknown>): Promise<void> {
    const sealed = await sql<{ n: number }>`
      select count(*) as n from webhooks where substr(secret, 1, 6) <> 'plain:'`.execute(db);
    if (Number(sealed.rows[0]?.n ?? 0) > 0) {
      throw new Error('Webhook secrets are encrypted: a migration cannot decrypt them (it has no key).');
    }
    await sql`update webhooks set secret = substr(secret, 7)`.execute(db);
  },
};
