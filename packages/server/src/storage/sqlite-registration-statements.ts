import type BetterSqlite3 from 'better-sqlite3';
import {
  EVENT_COLUMNS,
  REGISTERED_INSTANCE_COLUMNS,
  type RegistrationStatements,
  registrationSql,
  type ServingSatellite,
  type UdiHolder,
} from './registration-statements.js';
import type { TokenRow } from './schema.js';
import { preparedOnFirstUse } from './sqlite-device-statements.js';

// Hand-written SQL for SQLite, bypassing Kysely on the registration path (issue 15, ADR 0021);
// the Kysely twins and the test that holds them equal are named in `registration-statements.ts`.

const SQL = registrationSql(() => '?');

/**
 * Prepared better-sqlite3 statements on the server's one connection. They run synchronously,
 * so inside a unit of work they belong to the transaction that holds that connection.
 */
export function createSqliteRegistrationStatements(sqlite: BetterSqlite3.Database): RegistrationStatements {
  const statement = preparedOnFirstUse(sqlite);
  return {
    async findTokenByHash(_trx, hash) {
      return statement<TokenRow>(SQL.findToken).get(hash);
    },
    async findServingSatellite(_trx, vaId) {
      return statement<ServingSatellite>(SQL.servingSatellite).get(vaId);
    },
    async findInstanceByUdi(_trx, pid, sn) {
      return statement<UdiHolder>(SQL.findInstanceByUdi).get(pid, sn);
    },
    async consumeTokenUse(_trx, id, now) {
      return statement(SQL.consumeTokenUse).run(id, now).changes === 1;
    },
    async insertInstance(_trx, row) {
      statement(SQL.insertInstance).run(...REGISTERED_INSTANCE_COLUMNS.map((column) => row[column]));
    },
    async insertEvent(_trx, row) {
      statement(SQL.insertEvent).run(...EVENT_COLUMNS.map((column) => row[column]));
    },
  };
}
