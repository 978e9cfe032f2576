import type { Kysely } from 'kysely';
import type { LicenseService } from '../features/licenses/license-service.js';
import type { TagTreeCache } from '../features/tags/tag-tree.js';
import type { Logger } from '../logger.js';
import type { Database } from '../storage/schema.js';

/**
 * Work done once when the app is ready, before it listens, so that the first request does not
 * pay for it: the tag catalogue loaded into its cache, and the license list of one VA read (its
 * statements compiled and prepared, its code run once). Reads only, of a size that does not grow
 * with the data (one VA's maintained totals, ADR 0011); a failure is logged at DEBUG and changes
 * nothing (the first request then does the same work).
 */
export async function warmUp(deps: {
  db: Kysely<Database>;
  tags: TagTreeCache;
  licenses: Pick<LicenseService, 'listLicenses'>;
  logger: Logger;
}): Promise<void> {
  const started = performance.now();
  try {
    await deps.tags.get();
    const va = await deps.db.selectFrom('virtual_accounts').select('id').limit(1).executeTakeFirst();
    if (va) await deps.licenses.listLicenses(va.id);
    deps.logger.debug({ ms: Math.round(performance.now() - started) }, 'warmed up');
  } catch (error) {
    deps.logger.debug({ err: error }, 'warm-up before listening failed (the first request does the work instead)');
  }
}
