import type { ReactNode } from 'react';

/**
 * A table of rows with a caption for screen readers, column headers (a `false` column is left
 * out), and one line that says so when there are no rows.
 */
export function ListTable<T>(props: {
  caption: string;
  columns: (string | false)[];
  rows: T[] | undefined;
  empty: ReactNode;
  children: (row: T) => ReactNode;
}) {
  const columns = props.columns.filter((c): c is string => c !== false);
  return (
    <table>
      <caption className="sr-only">{props.caption}</caption>
      <thead>
        <tr>
          {columns.map((c) => (
            <th key={c} scope="col">
              {c}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows?.length === 0 && (
          <tr>
            <td colSpan={columns.length}>{props.empty}</td>
          </tr>
        )}
        {props.rows?.map(props.children)}
      </tbody>
    </table>
  );
}
