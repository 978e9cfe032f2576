import type { Clock } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import type { Logger } from '../../logger.js';
import type { DeviceStatements } from '../../storage/device-statements.js';
import type { Database } from '../../storage/schema.js';
import type { Transactor } from '../../storage/transactor.js';
import type { PlaceCache } from '../accounts/place-cache.js';
import type { InstanceKeyCache } from '../instances/instance-key-cache.js';
import type { AuthorityPki } from '../pki/authority-pki.js';
import type { TagTreeCache } from '../tags/tag-tree.js';

/** What the device use cases share. */
export interface DeviceDeps {
  db: Kysely<Database>;
  transactor: Transactor;
  /** The authorization's statements, prepared for the engine (the rest of the device path uses Kysely). */
  statements: DeviceStatements;
  clock: Clock;
  pki: AuthorityPki;
  cache: InstanceKeyCache;
  /** Names of VAs and their accounts, for answers that say where an instance is registered. */
  places: PlaceCache;
  clockToleranceMs: number;
  logger?: Logger;
  /** The license hierarchy: which licenses cover which tags. */
  tags: TagTreeCache;
}
