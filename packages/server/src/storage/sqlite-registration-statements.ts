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

// Hand-written SQL for SQLite, bypassing Kysely on the registration path (issue 15, ADR 0021);
// the Kysely twins and the test that holds them equal are named in `registration-statements.ts`.

const {
  findToken: FIND_TOKEN,
  servingSatellite: SERVING_SATELLITE,
  findInstanceByUdi: FIND_INSTANCE_BY_UDI,
  consumeTokenUse: CONSUME_TOKEN_USE,
  insertInstance: INSERT_INSTANCE,
  insertEvent: INSERT_EVENT,
} = registrationSql(() => '?');

/**
 * Prepared better-sqlite3 statements on the server's one connection. They run synchronously,
 * so inside a unit of work they belong to the transaction that holds that connection.
 */
export function createSqliteRegistrationStatements(sqlite: BetterSqlite3.Database): RegistrationStatements {
  // Prepared on first use: the database is opened before its migrations create the tables.
  const prepared = new Map<string, BetterSqlite3.Statement>();
  const statement = <R = unknown>(text: string): BetterSqlite3.Statement<unknown[], R> => {
    let found = prepared.get(text);
    if (!found) {
      found = sqlite.prepare(text);
      prepared.set(text, found);
    }
    return found as BetterSqlite3.Statement<unknown[], R>;
  };
  return {
    async findTokenByHash(_trx, hash) {
      return statement<TokenRow>(FIND_TOKEN).get(hash);
    },
    async findServingSatellite(_trx, vaId) {
      return statement<ServingSatellite>(SERVING_SATELLITE).get(vaId);
    },
    async findInstanceByUdi(_trx, pid, sn) {
      return statement<UdiHolder>(FIND_INSTANCE_BY_UDI).get(pid, sn);
    },
    async consumeTokenUse(_trx, id, now) {
      return statement(CONSUME_TOKEN_USE).run(id, now).changes === 1;
    },
    async insertInstance(_trx, row) {
      statement(INSERT_INSTANCE).run(...REGISTERED_INSTANCE_COLUMNS.map((column) => row[column]));
    },
    async insertEvent(_trx, row) {
      statement(INSERT_EVENT).run(...EVENT_COLUMNS.map((column) => row[column]));
    },
  };
}
