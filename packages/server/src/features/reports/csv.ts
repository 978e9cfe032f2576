/** A CSV cell value. */
export type CsvValue = string | number | boolean | null | undefined;

/**
 * Text a spreadsheet would run as a formula: it starts with `=`, `+`, `-`, `@`, a tab or a
 * carriage return (OWASP, CSV injection). Device-supplied hostnames and tags reach reports.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One field, quoted as RFC 4180 requires when it holds a comma, a quote or a line break. A text
 * cell that a spreadsheet would read as a formula gets a leading `'`, which shows it as text;
 * numbers (a shortage of −2) stay numbers.
 */
export function csvField(value: CsvValue): string {
  let text = value === null || value === undefined ? '' : String(value);
  if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** What makes RFC 4180 quote a field: a comma, a quote or a line break. */
const NEEDS_QUOTES = /[",\r\n]/;

/** Either of the two: what makes {@link csvField} change a text. */
const NEEDS_CARE = new RegExp(`${FORMULA_START.source}|${NEEDS_QUOTES.source}`);

/**
 * {@link csvField} of a text cell (null is empty), answered without a copy when the text needs
 * no quoting and does not start like a formula — nearly every cell of a large report.
 */
export function csvText(text: string | null): string {
  if (text === null) return '';
  return NEEDS_CARE.test(text) ? csvField(text) : text;
}

/** One CSV record with its CRLF line end. */
export function csvRow(row: readonly CsvValue[]): string {
  return `${row.map(csvField).join(',')}\r\n`;
}

/** A CSV document (RFC 4180): a header row, then one row per record, CRLF line ends. */
export function toCsv(header: readonly string[], rows: ReadonlyArray<readonly CsvValue[]>): string {
  return [header, ...rows].map(csvRow).join('');
}
