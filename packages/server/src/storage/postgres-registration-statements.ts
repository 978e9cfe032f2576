import { CompiledQuery, type Kysely } from 'kysely';
import {
  EVENT_COLUMNS,
  REGISTERED_INSTANCE_COLUMNS,
  type RegistrationStatements,
  registrationSql,
  type ServingSatellite,
  type UdiHolder,
} from './registration-statements.js';
import type { Database, TokenRow } from './schema.js';

// Hand-written SQL for PostgreSQL, bypassing Kysely's query building on the registration path
// (issue 15, ADR 0021). The texts are fixed, so `postgres.ts` sends each as a named statement;
// the Kysely twins and the test that holds them equal are named in `registration-statements.ts`.

const {
  findToken: FIND_TOKEN,
  servingSatellite: SERVING_SATELLITE,
  findInstanceByUdi: FIND_INSTANCE_BY_UDI,
  consumeTokenUse: CONSUME_TOKEN_USE,
  insertInstance: INSERT_INSTANCE,
  insertEvent: INSERT_EVENT,
} = registrationSql((i) => `$${i + 1}`);

/** The registration's statements that `postgres.ts` sends by name (text → name). */
export const REGISTRATION_NAMED_STATEMENTS: ReadonlyMap<string, string> = new Map([
  [FIND_TOKEN, 'smartlic_find_token'],
  [SERVING_SATELLITE, 'smartlic_serving_satellite'],
  [FIND_INSTANCE_BY_UDI, 'smartlic_find_instance_by_udi'],
  [CONSUME_TOKEN_USE, 'smartlic_consume_token_use'],
  [INSERT_INSTANCE, 'smartlic_insert_instance'],
  [INSERT_EVENT, 'smartlic_insert_event'],
]);

/** The registration's statements, run on the unit's transaction without Kysely's query building. */
export function createPostgresRegistrationStatements(): RegistrationStatements {
  const run = <R>(trx: Kysely<Database>, text: string, parameters: readonly unknown[]) =>
    trx.executeQuery<R>(CompiledQuery.raw(text, [...parameters]));
  return {
    async findTokenByHash(trx, hash) {
      return (await run<TokenRow>(trx, FIND_TOKEN, [hash])).rows[0];
    },
    async findServingSatellite(trx, vaId) {
      return (await run<ServingSatellite>(trx, SERVING_SATELLITE, [vaId])).rows[0];
    },
    async findInstanceByUdi(trx, pid, sn) {
      return (await run<UdiHolder>(trx, FIND_INSTANCE_BY_UDI, [pid, sn])).rows[0];
    },
    async consumeTokenUse(trx, id, now) {
      return (await run(trx, CONSUME_TOKEN_USE, [id, now])).numAffectedRows === 1n;
    },
    async insertInstance(trx, row) {
      await run(
        trx,
        INSERT_INSTANCE,
        REGISTERED_INSTANCE_COLUMNS.map((column) => row[column]),
      );
    },
    async insertEvent(trx, row) {
      await run(
        trx,
        INSERT_EVENT,
        EVENT_COLUMNS.map((column) => row[column]),
      );
    },
  };
}
