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
 * instances: each page one prepared statement whose rows are iterated as arrays (no row
 * objects, no Kysely). A page's iterator is drained by the consumer before the next page is
 * read, so the connection is never left busy between two pulls and other requests interleave.
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
        const rows = (
          last === undefined
            ? first.iterate(alertFrom, vaId, pageSize)
            : next.iterate(alertFrom, vaId, last[5], last[5], last[1], last[1], last[2], pageSize)
        ) as IterableIterator<InstanceReportRow>;
        let instances = 0;
        let previousId: string | undefined;
        let tail: InstanceReportRow | undefined;
        try {
          yield {
            *[Symbol.iterator]() {
              for (const row of rows) {
                if (row[0] !== previousId) {
                  instances++;
                  previousId = row[0];
                }
                tail = row;
                yield row;
              }
            },
          };
        } finally {
          rows.return?.(); // frees the statement if the consumer stopped inside the page
        }
        if (tail === undefined || instances < pageSize) return;
        last = tail;
      }
    },
  };
}
