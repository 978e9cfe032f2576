import type { Clock } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import type { Logger } from '../../logger.js';
import type { Database } from '../../storage/schema.js';
import type { Transactor } from '../../storage/transactor.js';
import type { PlaceCache } from '../accounts/place-cache.js';
import type { InstanceKeyCache } from '../instances/instance-key-cache.js';
import type { PkiHolder } from '../pki/pki-holder.js';
import type { TagTreeCache } from '../tags/tag-tree.js';

/** What the device use cases share. */
export interface DeviceDeps {
  db: Kysely<Database>;
  transactor: Transactor;
  clock: Clock;
  /** The signing PKI, read once per request (`current()`); a satellite's may be swapped while running. */
  pki: PkiHolder;
  cache: InstanceKeyCache;
  /** Names of VAs and their accounts, for answers that say where an instance is registered. */
  places: PlaceCache;
  clockToleranceMs: number;
  logger?: Logger;
  /** The license hierarchy: which licenses cover which tags. */
  tags: TagTreeCache;
}
