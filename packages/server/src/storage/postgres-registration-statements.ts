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

const SQL = registrationSql((i) => `$${i + 1}`);

/** The registration's statements that `postgres.ts` sends by name (text → name). */
export const REGISTRATION_NAMED_STATEMENTS: ReadonlyMap<string, string> = new Map([
  [SQL.findToken, 'smartlic_find_token'],
  [SQL.servingSatellite, 'smartlic_serving_satellite'],
  [SQL.findInstanceByUdi, 'smartlic_find_instance_by_udi'],
  [SQL.consumeTokenUse, 'smartlic_consume_token_use'],
  [SQL.insertInstance, 'smartlic_insert_instance'],
  [SQL.insertEvent, 'smartlic_insert_event'],
]);

/** The registration's statements, run on the unit's transaction without Kysely's query building. */
export function createPostgresRegistrationStatements(): RegistrationStatements {
  const run = <R>(trx: Kysely<Database>, text: string, parameters: readonly unknown[]) =>
    trx.executeQuery<R>(CompiledQuery.raw(text, [...parameters]));
  return {
    async findTokenByHash(trx, hash) {
      return (await run<TokenRow>(trx, SQL.findToken, [hash])).rows[0];
    },
    async findServingSatellite(trx, vaId) {
      return (await run<ServingSatellite>(trx, SQL.servingSatellite, [vaId])).rows[0];
    },
    async findInstanceByUdi(trx, pid, sn) {
      return (await run<UdiHolder>(trx, SQL.findInstanceByUdi, [pid, sn])).rows[0];
    },
    async consumeTokenUse(trx, id, now) {
      return (await run(trx, SQL.consumeTokenUse, [id, now])).numAffectedRows === 1n;
    },
    async insertInstance(trx, row) {
      await run(
        trx,
        SQL.insertInstance,
        REGISTERED_INSTANCE_COLUMNS.map((column) => row[column]),
      );
    },
    async insertEvent(trx, row) {
      await run(
        trx,
        SQL.insertEvent,
        EVENT_COLUMNS.map((column) => row[column]),
      );
    },
  };
}
