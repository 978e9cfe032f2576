import { type Clock, MINUTE, SmartlicError } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import type { ApiKeyRole, Database } from '../../storage/schema.js';
import type { Transactor } from '../../storage/transactor.js';
import { hashApiKey } from './api-key.js';
import { findApiKeyByHash, touchApiKey } from './api-key-store.js';

/** Who an admin request acts as. */
export interface ApiPrincipal {
  keyId: string;
  name: string;
  role: ApiKeyRole;
  userId: string | null;
}

/** `last_used_at` is rewritten at most this often per key, so reads do not each cost a durable write. */
export const LAST_USED_PRECISION_MS = MINUTE;

export interface ApiKeyServiceDeps {
  db: Kysely<Database>;
  transactor: Transactor;
  clock: Clock;
}

/** Authentication of admin requests by API key. */
export function createApiKeyService({ db, transactor, clock }: ApiKeyServiceDeps) {
  return {
    /** The principal of an `Authorization: Bearer <key>` header, or `UNAUTHENTICATED`. */
    async authenticate(authorization: string | undefined): Promise<ApiPrincipal> {
      const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
      if (!match) {
        throw new SmartlicError('UNAUTHENTICATED', {
          message: authorization
            ? 'The Authorization header must be "Bearer <API key>".'
            : 'An API key is required: pass --api-key or set SMARTLIC_API_KEY.',
        });
      }
      const row = await findApiKeyByHash(db, hashApiKey(match[1]!));
      if (!row || row.revoked_at !== null) {
        throw new SmartlicError('UNAUTHENTICATED', {
          message: row ? 'This API key has been revoked.' : 'This API key is not valid.',
        });
      }
      const now = clock.now();
      if (row.last_used_at === null || now - row.last_used_at >= LAST_USED_PRECISION_MS) {
        await transactor.run((trx) => touchApiKey(trx, row.id, now));
      }
      return { keyId: row.id, name: row.name, role: row.role, userId: row.user_id };
    },
  };
}

export type ApiKeyService = ReturnType<typeof createApiKeyService>;
