import type pg from 'pg';
import {
  INSTANCE_REPORT_COLUMNS,
  INSTANCE_REPORT_ORDER,
  type InstanceReportRow,
  type InstanceRowSource,
  instanceReportSelect,
} from './instance-report-rows.js';

/** Rows per `FETCH`. */
export const POSTGRES_REPORT_FETCH = 2000;

const QUERY = `select ${instanceReportSelect('$2')}
  from (select ${INSTANCE_REPORT_COLUMNS} from instances where va_id = $1) i
  left join instance_usage u on u.instance_id = i.id
  order by ${INSTANCE_REPORT_ORDER}`;

/**
 * A VA's instances and their usage through one server-side cursor, in a read-only
 * REPEATABLE READ transaction (the whole report is one snapshot) on a connection of its own,
 * fetched `fetchSize` rows at a time as arrays (no row objects, no Kysely). The connection goes
 * back to the pool when the last row was read or the consumer stops early (a closed download).
 * `alertFrom`: see {@link instanceReportSelect}.
 */
export function postgresInstanceRows(
  pool: pg.Pool,
  vaId: string,
  alertFrom: number,
  fetchSize = POSTGRES_REPORT_FETCH,
): InstanceRowSource {
  return {
    async *[Symbol.asyncIterator]() {
      const client = await pool.connect();
      let broken: Error | undefined;
      let open = false;
      try {
        await client.query('begin transaction isolation level repeatable read, read only');
        open = true;
        await client.query(`declare instance_report no scroll cursor for ${QUERY}`, [vaId, alertFrom]);
        for (;;) {
          const { rows } = await client.query<InstanceReportRow>({
            text: `fetch ${fetchSize} from instance_report`,
            rowMode: 'array',
          });
          if (rows.length > 0) yield rows;
          if (rows.length < fetchSize) break;
        }
        await client.query('commit');
        open = false;
      } catch (error) {
        broken = error as Error;
        throw error;
      } finally {
        if (open && broken === undefined) {
          // Also reached when the consumer stopped early: end the transaction, keep the connection.
          await client.query('rollback').catch((error: Error) => {
            broken = error;
          });
        }
        client.release(broken);
      }
    },
  };
}
