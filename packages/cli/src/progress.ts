/** Where progress is drawn: a terminal stream (process.stderr) or a test's stand-in. */
export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

/** Progress of one long piece of work: `update` as it moves, `end` once (it ends the line if one was drawn). */
export interface Progress {
  update(done: number, total?: number): void;
  end(): void;
}

export interface ProgressOptions {
  /** No progress at all (e.g. `--json`, or the output itself goes to the terminal). */
  quiet?: boolean;
  /** How amounts are shown: bytes as MB, or counted items. */
  unit?: 'bytes' | 'items';
  /** Nothing is drawn before this many ms: short work stays silent (default 1000). */
  after?: number;
  stream?: ProgressStream;
  now?: () => number;
}

const REDRAW_MS = 200;

/** An amount as the progress line shows it. */
export function amount(value: number, unit: 'bytes' | 'items'): string {
  return unit === 'bytes' ? `${(value / 1024 / 1024).toFixed(1)} MB` : String(value);
}

/**
 * The progress line of the CLI's long commands (backup, reports and downloads saved to a file):
 * `\rLABEL: DONE of TOTAL` redrawn at most every 200 ms on stderr, only when stderr is a terminal
 * and the caller is not quiet, and only once the work has taken longer than `after` ms. Piped,
 * redirected or with --json, nothing is written.
 */
export function startProgress(label: string, options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? Date.now;
  const unit = options.unit ?? 'bytes';
  const enabled = options.quiet !== true && stream.isTTY === true;
  const started = now();
  const after = options.after ?? 1000;
  let drawnAt = -Infinity;
  let drawn = false;
  let last: { done: number; total: number | undefined } = { done: 0, total: undefined };
  const draw = () => {
    const of = last.total !== undefined && last.total > 0 ? ` of ${amount(last.total, unit)}` : '';
    stream.write(`\r${label}: ${amount(last.done, unit)}${of}   `);
    drawn = true;
    drawnAt = now();
  };
  return {
    update(done, total) {
      last = { done, total };
      if (!enabled) return;
      const at = now();
      if (at - started >= after && at - drawnAt >= REDRAW_MS) draw();
    },
    end() {
      if (!drawn) return;
      draw();
      stream.write('\n');
      drawn = false;
    },
  };
}
