/** A CSV cell value. */
export type CsvValue = string | number | boolean | null | undefined;

/** One field, quoted as RFC 4180 requires when it holds a comma, a quote or a line break. */
export function csvField(value: CsvValue): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A CSV document (RFC 4180): a header row, then one row per record, CRLF line ends. */
export function toCsv(header: readonly string[], rows: ReadonlyArray<readonly CsvValue[]>): string {
  return [header, ...rows].map((row) => `${row.map(csvField).join(',')}\r\n`).join('');
}
