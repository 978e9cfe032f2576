import { SmartlicError } from '@smartlic/protocol';
import { withHint } from './error-hints.js';

/** Whether the command was asked for one JSON document on stdout. */
export interface OutputOptions {
  json?: boolean;
}

/**
 * Characters a terminal acts on instead of showing: C0 controls (ESC starts colour, cursor and
 * title sequences), DEL, C1 controls (U+009B is a one-character CSI), line and paragraph
 * separators, and bidirectional overrides and isolates (which reorder what is shown).
 */
const CONTROLS = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

/**
 * Text from the server or a device made safe to show on a terminal: every control character
 * becomes its visible escape (ESC is shown as the six characters `\u001b`), except those in
 * `keep` (a whole output keeps its line feeds; a table cell keeps nothing).
 */
export function terminalText(text: string, keep = ''): string {
  return text.replace(CONTROLS, (c) => (keep.includes(c) ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/** Writes human-readable text to `stream` through `terminalText`, keeping line feeds. */
export function writeText(stream: NodeJS.WritableStream, text: string): void {
  stream.write(terminalText(text, '\n'));
}

/**
 * Prints `value` as JSON when asked, otherwise the text that `text` renders; both through
 * `writeText`. JSON stays JSON that parses to the same value: JSON.stringify escapes C0 controls
 * itself, and the escapes `terminalText` writes for the rest (C1, bidi) are JSON's own.
 */
export function print<T>(value: T, options: OutputOptions, text: (value: T) => string): void {
  writeText(process.stdout, `${options.json ? JSON.stringify(value, null, 2) : text(value)}\n`);
}

/** An error the CLI reports as one sentence on stderr with a non-zero exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Renders any thrown value as one human sentence. */
export function describeError(error: unknown): string {
  if (error instanceof SmartlicError) return withHint(error.message, error.code);
  if (error instanceof CliError) return error.message;
  if (error instanceof RangeError || error instanceof TypeError) return error.message;
  // The server's start-up failures (taken port, unusable data directory) are sentences already.
  if (error instanceof Error && error.name === 'StartupError') return error.message;
  if (error instanceof Error) return `Unexpected error: ${error.message}`;
  return `Unexpected error: ${String(error)}`;
}

/** Formats rows as an aligned text table; every control character in a cell (a line feed too) is shown escaped. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => terminalText(String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Parses a positive or non-negative integer option, or fails with a sentence naming it. */
export function parseInteger(value: string, name: string, min = 0): number {
  if (!/^-?\d+$/.test(value.trim())) throw new CliError(`${name} must be a whole number, not "${value}".`);
  const n = Number(value);
  if (n < min) throw new CliError(`${name} must be at least ${min}.`);
  return n;
}
