import type BetterSqlite3 from 'better-sqlite3';
import {
  INSTANCE_REPORT_COLUMNS,
  INSTANCE_REPORT_ORDER,
  type InstanceReportRow,
  type InstanceRowSource,
  instanceReportSelect,
} from './instance-report-rows.js';

/** Instances per keyset page: one page is read and formatted in one go (a few ms of the event loop). */
export const SQLITE_REPORT_PAGE = 1000;

const pageOf = (keyset: string) => `select ${instanceReportSelect('?')}
  from (select ${INSTANCE_REPORT_COLUMNS} from instances
        where va_id = ? ${keyset} order by registered_at, pid, sn limit ?) i
  left join instance_usage u on u.instance_id = i.id
  order by ${INSTANCE_REPORT_ORDER}`;

/** The same keyset predicate as the paged instance list: a range read of (va_id, registered_at, pid, sn) from the cursor on. */
const AFTER = 'and registered_at >= ? and (registered_at > ? or pid > ? or (pid = ? and sn > ?))';

/**
 * A VA's instances and their usage straight from better-sqlite3, in keyset pages of `pageSize`
 * instances: each page one prepared statement whose rows are read whole as arrays (no row
 * objects, no Kysely; one call into the driver per page is cheaper than one per row). A page is
 * read only when the consumer asks for it, so other requests interleave between two pages.
 * The pages are separate reads: an instance registered during the report may or may not appear,
 * as with the paged list. `alertFrom`: see {@link instanceReportSelect}.
 */
export function sqliteInstanceRows(
  sqlite: BetterSqlite3.Database,
  vaId: string,
  alertFrom: number,
  pageSize = SQLITE_REPORT_PAGE,
): InstanceRowSource {
  const first = sqlite.prepare(pageOf('')).raw(true);
  const next = sqlite.prepare(pageOf(AFTER)).raw(true);
  return {
    async *[Symbol.asyncIterator]() {
      let last: InstanceReportRow | undefined;
      for (;;) {
        // A page is read whole (one call into the driver, not one per row) and handed on.
        const rows = (
          last === undefined
            ? first.all(alertFrom, vaId, pageSize)
            : next.all(alertFrom, vaId, last[5], last[5], last[1], last[1], last[2], pageSize)
        ) as InstanceReportRow[];
        let instances = 0;
        let previousId: string | undefined;
        for (const row of rows) {
          if (row[0] !== previousId) {
            instances++;
            previousId = row[0];
          }
        }
        if (rows.length > 0) yield rows;
        if (instances < pageSize) return;
        last = rows[rows.length - 1];
      }
    },
  };
}
