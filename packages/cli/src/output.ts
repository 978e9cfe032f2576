import { SmartlicError } from '@smartlic/protocol';

/** Whether the command was asked for one JSON document on stdout. */
export interface OutputOptions {
  json?: boolean;
}

/** Prints `value` as JSON when asked, otherwise the text that `text` renders. */
export function print<T>(value: T, options: OutputOptions, text: (value: T) => string): void {
  process.stdout.write(options.json ? `${JSON.stringify(value, null, 2)}\n` : `${text(value)}\n`);
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
  if (error instanceof CliError || error instanceof SmartlicError) return error.message;
  if (error instanceof RangeError || error instanceof TypeError) return error.message;
  // The server's start-up failures (taken port, unusable data directory) are sentences already.
  if (error instanceof Error && error.name === 'StartupError') return error.message;
  if (error instanceof Error) return `Unexpected error: ${error.message}`;
  return `Unexpected error: ${String(error)}`;
}

/** Formats rows as an aligned text table. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
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
