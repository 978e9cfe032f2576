import { SmartlicError } from '@smartlic/protocol';
import { type Kysely, sql } from 'kysely';
import type { ServingSatellite } from '../../storage/registration-statements.js';
import type { Database } from '../../storage/schema.js';

/**
 * Refuses a device registration or token creation in a VA that a satellite serves (SPEC §8: one
 * serving node per VA): "Virtual Account <name> is served by satellite <name>; create tokens there".
 */
export async function refuseIfServedBySatellite(db: Kysely<Database>, vaId: string): Promise<void> {
  const { rows } = await sql<ServingSatellite>`
    select v.name as va, t.name as satellite from satellite_vas s
      inner join satellites t on t.id = s.satellite_id
      inner join virtual_accounts v on v.id = s.va_id
      where s.va_id = ${vaId}`.execute(db);
  const served = rows[0];
  if (served) throw servedBySatellite(vaId, served);
}

/** The refusal of a registration or token creation in a VA that the satellite `served.satellite` serves. */
export function servedBySatellite(vaId: string, served: ServingSatellite): SmartlicError {
  return new SmartlicError('SERVED_BY_SATELLITE', {
    message: `Virtual Account ${served.va} is served by satellite ${served.satellite}; create tokens there.`,
    context: { vaId, satellite: served.satellite },
  });
}
